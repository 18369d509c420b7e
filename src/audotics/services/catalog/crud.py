"""Creating, reading, changing and deleting artists, albums and tracks.

Every change is pushed to the search index in the same transaction. Role checks
for artists and albums (curators only) happen at the gateway; tracks depend on
who owns them, so their checks live here.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.problems import Conflict, Forbidden
from audotics.services.catalog import indexing, repository
from audotics.services.catalog.convert import album_out, artist_out, track_out
from audotics.services.catalog.models import Album, Artist, Track
from audotics.services.catalog.naming import clean_name, genre_key, name_key, title_key
from audotics.services.catalog.resolve import (
    album_or_404,
    album_titled,
    artist_named,
    artist_or_404,
    editable_track,
    genres_named,
    referenced_album,
    referenced_artist,
    visible_track,
)
from audotics.services.catalog.schemas import (
    AlbumCreate,
    AlbumOut,
    AlbumUpdate,
    ArtistCreate,
    ArtistOut,
    ArtistUpdate,
    GenreOut,
    TrackCreate,
    TrackOut,
    TrackScope,
    TrackUpdate,
    Viewer,
    Visibility,
)
from audotics.services.search.schemas import DocumentKind


def _name_taken(existing: Artist) -> Conflict:
    return Conflict(
        f"An artist named {existing.name!r} already exists.",
        title="Artist exists",
        artist_id=str(existing.id),
    )


async def _flush_or_conflict(session: AsyncSession, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent request took the name between our check and the insert.
        raise Conflict(message) from None


# --- artists ---------------------------------------------------------------------------


async def create_artist(session: AsyncSession, data: ArtistCreate) -> ArtistOut:
    display = clean_name(data.name)
    key = name_key(display)
    existing = await repository.artist_by_key(session, key)
    if existing is not None:
        raise _name_taken(existing)
    artist = Artist(name=display, name_key=key)
    artist.genres = await genres_named(session, data.genres)
    session.add(artist)
    await _flush_or_conflict(session, "An artist with this name already exists.")
    await indexing.index_artist(session, artist)
    return artist_out(artist)


async def get_artist(session: AsyncSession, artist_id: uuid.UUID) -> ArtistOut:
    return artist_out(await artist_or_404(session, artist_id))


async def list_artists(
    session: AsyncSession,
    limit: int,
    offset: int,
    *,
    q: str | None = None,
    genre: str | None = None,
) -> tuple[list[ArtistOut], int]:
    rows, total = await repository.list_artists(
        session,
        key_prefix=name_key(q) if q else None,
        genre_key=genre_key(genre) if genre else None,
        limit=limit,
        offset=offset,
    )
    return [artist_out(row) for row in rows], total


async def update_artist(
    session: AsyncSession, artist_id: uuid.UUID, data: ArtistUpdate
) -> ArtistOut:
    """Renaming re-indexes the artist's albums and tracks, which show the name."""
    artist = await artist_or_404(session, artist_id)
    renamed = False
    if data.name is not None:
        display = clean_name(data.name)
        key = name_key(display)
        if key != artist.name_key:
            existing = await repository.artist_by_key(session, key)
            if existing is not None:
                raise _name_taken(existing)
        renamed = display != artist.name
        artist.name, artist.name_key = display, key
    if data.genres is not None:
        artist.genres = await genres_named(session, data.genres)
    artist.updated_at = utcnow()  # genres alone would not trigger onupdate
    await _flush_or_conflict(session, "An artist with this name already exists.")
    result = artist_out(artist)
    await indexing.index_artist(session, artist)
    if renamed:
        await indexing.index_albums(session, await repository.albums_of_artist(session, artist.id))
        tracks = await repository.tracks_where(session, Track.artist_id == artist.id)
        await indexing.index_tracks(session, tracks)
    return result


async def delete_artist(session: AsyncSession, artist_id: uuid.UUID) -> None:
    artist = await artist_or_404(session, artist_id)
    albums, tracks = await repository.artist_reference_counts(session, artist.id)
    if albums or tracks:
        raise Conflict(
            f"The artist still has {albums} album(s) and {tracks} track(s); "
            "delete or move them first.",
            title="Artist in use",
        )
    await session.delete(artist)
    await session.flush()
    await indexing.remove(session, DocumentKind.artist, [artist_id])


# --- albums ----------------------------------------------------------------------------


async def create_album(session: AsyncSession, data: AlbumCreate) -> AlbumOut:
    """Always a new album (an artist may have two of one title); tracks find-or-create."""
    if data.artist_id is not None:
        artist = await referenced_artist(session, data.artist_id)
    else:
        artist = await artist_named(session, data.artist or "")
    display = clean_name(data.title)
    album = Album(
        title=display,
        title_key=title_key(display),
        artist_id=artist.id,
        release_year=data.release_year,
    )
    album.artist = artist
    session.add(album)
    await session.flush()
    await indexing.index_albums(session, [album])
    return album_out(album)


async def get_album(session: AsyncSession, album_id: uuid.UUID) -> AlbumOut:
    return album_out(await album_or_404(session, album_id))


async def list_albums(
    session: AsyncSession,
    limit: int,
    offset: int,
    *,
    artist_id: uuid.UUID | None = None,
    q: str | None = None,
) -> tuple[list[AlbumOut], int]:
    rows, total = await repository.list_albums(
        session,
        artist_id=artist_id,
        key_prefix=title_key(q) if q else None,
        limit=limit,
        offset=offset,
    )
    return [album_out(row) for row in rows], total


async def update_album(session: AsyncSession, album_id: uuid.UUID, data: AlbumUpdate) -> AlbumOut:
    album = await album_or_404(session, album_id)
    retitled = False
    if data.title is not None:
        display = clean_name(data.title)
        retitled = display != album.title
        album.title, album.title_key = display, title_key(display)
    if data.artist_id is not None and data.artist_id != album.artist_id:
        album.artist = await referenced_artist(session, data.artist_id)
    if "release_year" in data.model_fields_set:
        album.release_year = data.release_year
    album.updated_at = utcnow()
    await session.flush()
    await indexing.index_albums(session, [album])
    if retitled:  # tracks carry the album title
        await indexing.index_tracks(
            session, await repository.tracks_where(session, Track.album_id == album.id)
        )
    return album_out(album)


async def delete_album(session: AsyncSession, album_id: uuid.UUID) -> None:
    """The album's tracks stay, without an album."""
    album = await album_or_404(session, album_id)
    tracks = await repository.tracks_where(session, Track.album_id == album.id)
    for track in tracks:
        track.album = None
        track.updated_at = utcnow()
    await session.flush()
    await session.delete(album)
    await session.flush()
    await indexing.remove(session, DocumentKind.album, [album_id])
    await indexing.index_tracks(session, tracks)


# --- tracks ----------------------------------------------------------------------------


async def create_track(session: AsyncSession, viewer: Viewer, data: TrackCreate) -> TrackOut:
    """Curators add to the public catalog; anyone adds to their own private library.

    An artist or album given by name is found by its normalised name or created.
    """
    visibility = data.visibility or (Visibility.public if viewer.can_curate else Visibility.private)
    if visibility is Visibility.public and not viewer.can_curate:
        raise Forbidden("Only curators and admins add to the public catalog.")
    if data.artist_id is not None:
        artist = await referenced_artist(session, data.artist_id)
    else:
        artist = await artist_named(session, data.artist or "")
    album: Album | None = None
    if data.album_id is not None:
        album = await referenced_album(session, data.album_id)
    elif data.album is not None:
        album = await album_titled(session, artist, data.album)
    display = clean_name(data.title)
    track = Track(
        title=display,
        title_key=title_key(display),
        duration_s=data.duration_s,
        track_number=data.track_number,
        isrc=data.isrc,
        owner_id=None if visibility is Visibility.public else viewer.user_id,
    )
    track.artist, track.album = artist, album
    track.genres = await genres_named(session, data.genres)
    session.add(track)
    await session.flush()
    await indexing.index_tracks(session, [track])
    return track_out(track)


async def get_track(
    session: AsyncSession, viewer_id: uuid.UUID | None, track_id: uuid.UUID
) -> TrackOut:
    return track_out(await visible_track(session, viewer_id, track_id))


async def list_tracks(
    session: AsyncSession,
    viewer_id: uuid.UUID,
    limit: int,
    offset: int,
    *,
    scope: TrackScope = TrackScope.all,
    artist_id: uuid.UUID | None = None,
    album_id: uuid.UUID | None = None,
    genre: str | None = None,
) -> tuple[list[TrackOut], int]:
    rows, total = await repository.list_tracks(
        session,
        viewer_id=viewer_id,
        scope=scope,
        artist_id=artist_id,
        album_id=album_id,
        genre_key=genre_key(genre) if genre else None,
        limit=limit,
        offset=offset,
    )
    return [track_out(row) for row in rows], total


async def update_track(
    session: AsyncSession, viewer: Viewer, track_id: uuid.UUID, data: TrackUpdate
) -> TrackOut:
    track = await editable_track(session, viewer, track_id)
    fields = data.model_fields_set
    if data.title is not None:
        display = clean_name(data.title)
        track.title, track.title_key = display, title_key(display)
    if data.artist_id is not None:
        track.artist = await referenced_artist(session, data.artist_id)
    elif data.artist is not None:
        track.artist = await artist_named(session, data.artist)
    if data.album is not None:
        track.album = await album_titled(session, track.artist, data.album)
    elif "album_id" in fields:
        track.album = await referenced_album(session, data.album_id) if data.album_id else None
    for field in ("duration_s", "track_number", "isrc"):
        if field in fields:
            setattr(track, field, getattr(data, field))
    if data.genres is not None:
        track.genres = await genres_named(session, data.genres)
    track.updated_at = utcnow()
    await session.flush()
    await indexing.index_tracks(session, [track])
    return track_out(track)


# --- genres ----------------------------------------------------------------------------


async def list_genres(
    session: AsyncSession, limit: int, offset: int, *, q: str | None = None
) -> tuple[list[GenreOut], int]:
    rows, total = await repository.list_genres(session, genre_key(q) if q else None, limit, offset)
    return [GenreOut.model_validate(row) for row in rows], total


async def get_editable_track(
    session: AsyncSession, viewer: Viewer, track_id: uuid.UUID
) -> TrackOut:
    """The track if ``viewer`` may change it: 404 when invisible, 403 when public to a listener."""
    return track_out(await editable_track(session, viewer, track_id))

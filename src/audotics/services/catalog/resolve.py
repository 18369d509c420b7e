"""Finding rows by id or by name, creating them when a name is new, and access checks.

Shared by the CRUD, audio and public service functions; works on ORM rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Forbidden, NotFound, Unprocessable
from audotics.services.catalog import indexing, repository
from audotics.services.catalog.models import Album, Artist, Genre, Track
from audotics.services.catalog.naming import (
    GENRE_MAX,
    clean_name,
    genre_key,
    name_key,
    title_key,
)
from audotics.services.catalog.schemas import Viewer


def display_name(text: str, what: str, max_length: int | None = None) -> str:
    """``text`` cleaned for display; a 422 problem naming ``what`` when nothing is left."""
    cleaned = clean_name(text, max_length) if max_length else clean_name(text)
    if not cleaned:
        raise Unprocessable(f"The {what} is empty.", errors=[{"field": what, "message": "empty"}])
    return cleaned


async def genres_named(session: AsyncSession, names: Sequence[str]) -> list[Genre]:
    """The genres with these names, created when new; duplicates collapse."""
    wanted: dict[str, str] = {}
    for name in names:
        display = display_name(name, "genre", GENRE_MAX)
        wanted.setdefault(genre_key(display), display)
    found = await repository.genres_by_key(session, list(wanted))
    missing = [key for key in wanted if key not in found]
    for key in missing:
        await repository.insert_genre_if_absent(session, wanted[key], key)
    if missing:
        found = await repository.genres_by_key(session, list(wanted))
    return [found[key] for key in wanted]


async def artist_named(session: AsyncSession, name: str) -> Artist:
    """The artist whose normalised name matches, created (and indexed) when new."""
    display = display_name(name, "artist name")
    key = name_key(display)
    artist = await repository.artist_by_key(session, key)
    if artist is not None:
        return artist
    inserted = await repository.insert_artist_if_absent(session, display, key)
    artist = await repository.artist_by_key(session, key)
    if artist is None:  # pragma: no cover - the insert or a concurrent one made it
        raise RuntimeError(f"artist {key!r} vanished after insert")
    if inserted:
        await indexing.index_artist(session, artist)
    return artist


async def album_titled(
    session: AsyncSession, artist: Artist, title: str, release_year: int | None = None
) -> Album:
    """The artist's oldest album of that (normalised) title, created and indexed when new."""
    display = display_name(title, "album title")
    key = title_key(display)
    album = await repository.album_by_title(session, artist.id, key)
    if album is not None:
        return album
    if release_year is not None and not 1000 <= release_year <= 2999:
        release_year = None  # importers' data: an impossible year is an unknown one
    album = Album(title=display, title_key=key, artist_id=artist.id, release_year=release_year)
    album.artist = artist
    session.add(album)
    await session.flush()
    await indexing.index_albums(session, [album])
    return album


async def artist_or_404(session: AsyncSession, artist_id: uuid.UUID) -> Artist:
    artist = await repository.artist_by_id(session, artist_id)
    if artist is None:
        raise NotFound(f"No artist {artist_id}.")
    return artist


async def album_or_404(session: AsyncSession, album_id: uuid.UUID) -> Album:
    album = await repository.album_by_id(session, album_id)
    if album is None:
        raise NotFound(f"No album {album_id}.")
    return album


def _unknown_reference(field: str, ref_id: uuid.UUID) -> Unprocessable:
    return Unprocessable(
        f"{field} {ref_id} does not exist.",
        title="Unknown reference",
        errors=[{"field": field, "message": "does not exist"}],
    )


async def referenced_artist(session: AsyncSession, artist_id: uuid.UUID) -> Artist:
    """An artist named by id in a request body: a missing one is the body's fault (422)."""
    artist = await repository.artist_by_id(session, artist_id)
    if artist is None:
        raise _unknown_reference("artist_id", artist_id)
    return artist


async def referenced_album(session: AsyncSession, album_id: uuid.UUID) -> Album:
    album = await repository.album_by_id(session, album_id)
    if album is None:
        raise _unknown_reference("album_id", album_id)
    return album


async def visible_track(
    session: AsyncSession,
    viewer_id: uuid.UUID | None,
    track_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Track:
    """The track if the viewer may see it; someone else's private track does not exist (404)."""
    track = await repository.track_by_id(session, track_id, for_update=for_update)
    if track is None or not (track.is_public or track.owner_id == viewer_id):
        raise NotFound(f"No track {track_id}.")
    return track


async def editable_track(
    session: AsyncSession, viewer: Viewer, track_id: uuid.UUID, *, for_update: bool = False
) -> Track:
    """Own private tracks are the owner's to edit; the public catalog is the curators'."""
    track = await visible_track(session, viewer.user_id, track_id, for_update=for_update)
    if track.is_public and not viewer.can_curate:
        raise Forbidden("Only curators and admins change the public catalog.")
    return track

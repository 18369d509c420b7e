"""Keeping the search index in step with the catalog, inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.catalog import repository
from audotics.services.catalog.convert import genre_names
from audotics.services.catalog.models import Album, Artist, Track
from audotics.services.search import service as search
from audotics.services.search.schemas import DocumentKind, SearchDocument

_BATCH = 500


def artist_document(artist: Artist) -> SearchDocument:
    genres = genre_names(artist.genres)
    return SearchDocument(
        kind=DocumentKind.artist,
        ref_id=artist.id,
        title=artist.name,
        keywords=" ".join(genres),
        payload={"genres": genres},
    )


def album_document(album: Album) -> SearchDocument:
    return SearchDocument(
        kind=DocumentKind.album,
        ref_id=album.id,
        title=album.title,
        subtitle=album.artist.name,
        keywords=str(album.release_year or ""),
        payload={
            "artist_id": str(album.artist_id),
            "artist_name": album.artist.name,
            "release_year": album.release_year,
        },
    )


async def _track_documents(session: AsyncSession, tracks: Sequence[Track]) -> list[SearchDocument]:
    features = await repository.features_of(session, [track.id for track in tracks])
    documents = []
    for track in tracks:
        genres = genre_names(track.genres)
        album_title = track.album.title if track.album else None
        found = features.get(track.id)
        documents.append(
            SearchDocument(
                kind=DocumentKind.track,
                ref_id=track.id,
                title=track.title,
                subtitle=track.artist.name,
                keywords=" ".join([album_title or "", *genres]).strip(),
                owner_id=track.owner_id,
                payload={
                    "artist_id": str(track.artist_id),
                    "artist_name": track.artist.name,
                    "album_id": str(track.album_id) if track.album_id else None,
                    "album_title": album_title,
                    "duration_s": track.duration_s,
                    "genres": genres,
                },
                tempo_bpm=found.tempo_bpm if found else None,
                key=found.key if found else None,
                mode=found.mode if found else None,
                energy=found.energy if found else None,
                danceability=found.danceability if found else None,
                valence=found.valence if found else None,
            )
        )
    return documents


async def index_artist(session: AsyncSession, artist: Artist) -> None:
    await search.index_documents(session, [artist_document(artist)])


async def index_albums(session: AsyncSession, albums: Sequence[Album]) -> None:
    if albums:
        await search.index_documents(session, [album_document(album) for album in albums])


async def index_tracks(session: AsyncSession, tracks: Sequence[Track]) -> None:
    for start in range(0, len(tracks), _BATCH):
        batch = tracks[start : start + _BATCH]
        await search.index_documents(session, await _track_documents(session, batch))


async def remove(session: AsyncSession, kind: DocumentKind, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await search.remove_documents(session, kind, list(ids))

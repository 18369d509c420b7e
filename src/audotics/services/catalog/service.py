"""The catalog's public functions: what other services, importers and jobs call.

Everything here returns schemas, never ORM rows, and runs inside the caller's
session and transaction (nothing commits). The HTTP routes use
:mod:`~audotics.services.catalog.crud` and :mod:`~audotics.services.catalog.media`,
re-exported below so this module stays the catalog's one front door.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.infra.objects.base import ObjectStore, ObjectStoreError
from audotics.services.catalog import features as analysis_features
from audotics.services.catalog import indexing, repository
from audotics.services.catalog.analysis import (
    ANALYSIS_MAX_ATTEMPTS,
    ANALYZE_JOB,
    ANALYZED_EVENT,
    Begin,
    InvalidFeatures,
    analysis_job_payload,
    analysis_state,
    begin_analysis,
    pending_analysis,
    record_analysis_failure,
    request_analysis,
    store_analysis,
    tracks_needing_analysis,
)
from audotics.services.catalog.convert import summary_of_row, track_out, track_summary
from audotics.services.catalog.crud import (
    create_album,
    create_artist,
    create_track,
    delete_album,
    delete_artist,
    get_album,
    get_artist,
    get_editable_track,
    get_track,
    list_albums,
    list_artists,
    list_genres,
    list_tracks,
    update_album,
    update_artist,
    update_track,
)
from audotics.services.catalog.features import (
    SoundEmbedding,
    analysed_tracks,
    get_track_features,
    sound_embeddings,
    sound_embeddings_watermark,
    sound_seed,
)
from audotics.services.catalog.media import (
    AudioSource,
    ReceivedFile,
    audio_source,
    delete_track,
    delete_track_audio,
    on_audio_stored,
    store_track_audio,
)
from audotics.services.catalog.models import Track
from audotics.services.catalog.naming import name_key, title_key
from audotics.services.catalog.resolve import (
    album_titled,
    artist_named,
    display_name,
    genres_named,
    referenced_artist,
)
from audotics.services.catalog.schemas import (
    AlbumRef,
    ArtistRef,
    GenreOut,
    TrackSummary,
    UserCatalogExport,
)
from audotics.services.search.schemas import DocumentKind

__all__ = [
    "ANALYSIS_MAX_ATTEMPTS",
    "ANALYZED_EVENT",
    "ANALYZE_JOB",
    "SERVING_FEATURES",
    "AudioSource",
    "Begin",
    "InvalidFeatures",
    "ReceivedFile",
    "ServingTrack",
    "SoundEmbedding",
    "analysed_tracks",
    "analysis_job_payload",
    "analysis_state",
    "audio_source",
    "begin_analysis",
    "catalog_version",
    "create_album",
    "create_artist",
    "create_track",
    "delete_album",
    "delete_artist",
    "delete_track",
    "delete_track_audio",
    "delete_user_data",
    "export_user_data",
    "find_or_create_album",
    "find_or_create_artist",
    "find_or_create_genre",
    "find_or_create_track",
    "find_track",
    "get_album",
    "get_artist",
    "get_editable_track",
    "get_track",
    "get_track_features",
    "get_tracks",
    "list_albums",
    "list_artists",
    "list_genres",
    "list_tracks",
    "on_audio_stored",
    "pending_analysis",
    "purge_orphaned_audio",
    "record_analysis_failure",
    "request_analysis",
    "serving_tracks",
    "sound_embeddings",
    "sound_embeddings_watermark",
    "sound_seed",
    "store_analysis",
    "store_track_audio",
    "track_visible",
    "tracks_needing_analysis",
    "update_album",
    "update_artist",
    "update_track",
]

logger = logging.getLogger("audotics.catalog")


# --- finding or creating by name (importers) -------------------------------------------


async def find_or_create_genre(session: AsyncSession, name: str) -> GenreOut:
    """The genre whose normalised name matches ("Hip-Hop" == "hip hop"), created if new."""
    (genre,) = await genres_named(session, [name])
    return GenreOut.model_validate(genre)


async def find_or_create_artist(session: AsyncSession, name: str) -> ArtistRef:
    """The artist whose normalised name matches, created and indexed if new.

    Matching folds case, width and Latin accents, ignores punctuation and a
    leading "The " ("The Beatles" == "beatles" == "Beatles, The"). The name is
    cleaned (control characters dropped, whitespace collapsed, 300 characters
    at most); an empty name is a 422 problem.
    """
    return ArtistRef.model_validate(await artist_named(session, name))


async def find_or_create_album(
    session: AsyncSession, artist_id: uuid.UUID, title: str, release_year: int | None = None
) -> AlbumRef:
    """The artist's album of that normalised title (the oldest, if several), created if new."""
    artist = await referenced_artist(session, artist_id)
    return AlbumRef.model_validate(await album_titled(session, artist, title, release_year))


async def find_or_create_track(
    session: AsyncSession,
    *,
    artist: str,
    title: str,
    album: str | None = None,
    duration_s: float | None = None,
) -> TrackSummary:
    """A public-catalog track by artist name and title (normalised), created if new.

    For importers of listening history, which know tracks only by name. An
    existing track is returned as it is; ``album`` and ``duration_s`` only fill
    in a new one.
    """
    found_artist = await artist_named(session, artist)
    display = display_name(title, "track title")
    existing = await repository.track_by_title(session, found_artist.id, title_key(display))
    if existing is not None:
        return track_summary(existing)
    track = Track(
        title=display,
        title_key=title_key(display),
        duration_s=duration_s if _plausible_duration(duration_s) else None,
        owner_id=None,
    )
    track.artist = found_artist
    track.album = await album_titled(session, found_artist, album) if album else None
    track.genres = []
    session.add(track)
    await session.flush()
    await indexing.index_tracks(session, [track])
    return track_summary(track)


async def add_artist_genres(
    session: AsyncSession, artist_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    """Add genres (found or created by normalised name) to an artist, keeping its others.

    For importers (tags as genres). Returns the artist's genre names; an unknown
    artist or an empty name is a 422 problem.
    """
    artist = await referenced_artist(session, artist_id)
    have = {genre.id for genre in artist.genres}
    added = [genre for genre in await genres_named(session, names) if genre.id not in have]
    if added:
        artist.genres = [*artist.genres, *added]
        artist.updated_at = utcnow()
        await session.flush()
        await indexing.index_artist(session, artist)
    return sorted(genre.name for genre in artist.genres)


async def find_track(session: AsyncSession, *, artist: str, title: str) -> TrackSummary | None:
    """The public-catalog track by artist name and title (normalised), if it exists."""
    found_artist = await repository.artist_by_key(session, name_key(artist))
    if found_artist is None:
        return None
    existing = await repository.track_by_title(session, found_artist.id, title_key(title))
    if existing is None or existing.owner_id is not None:
        return None
    return track_summary(existing)


def _plausible_duration(duration_s: float | None) -> bool:
    return duration_s is not None and math.isfinite(duration_s) and 0 < duration_s <= 24 * 3600


# --- reading for other services --------------------------------------------------------

#: The audio features :func:`serving_tracks` returns, by column name.
SERVING_FEATURES: tuple[str, ...] = (
    "tempo_bpm",
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "instrumentalness",
    "loudness_lufs",
)


@dataclass(frozen=True)
class ServingTrack:
    """One track as a recommender sees it: plain values, no ORM objects."""

    id: uuid.UUID
    title: str
    artist_id: uuid.UUID
    artist_name: str
    genres: tuple[tuple[uuid.UUID, str], ...]
    created_at: datetime
    owner_id: uuid.UUID | None
    features: dict[str, float | None]
    embedding: np.ndarray | None


async def get_tracks(
    session: AsyncSession, ids: Sequence[uuid.UUID], viewer_id: uuid.UUID | None
) -> dict[uuid.UUID, TrackSummary]:
    """Summaries of the tracks among ``ids`` that ``viewer_id`` may see (None: public only).

    Missing and invisible ids are simply absent from the result.
    """
    rows = await repository.summary_rows(session, list(dict.fromkeys(ids)), viewer_id)
    return {row.id: summary_of_row(row) for row in rows}


async def track_visible(
    session: AsyncSession, track_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> bool:
    """Whether the track exists and is public or ``viewer_id``'s own."""
    return await repository.track_is_visible(session, track_id, viewer_id)


async def serving_tracks(
    session: AsyncSession,
    ids: Sequence[uuid.UUID] | None = None,
    viewer_id: uuid.UUID | None = None,
) -> list[ServingTrack]:
    """Metadata, audio features and sound embedding of tracks, in bulk (for recommendations).

    ``ids`` None means every track ``viewer_id`` may see (None: public only), in
    creation order; otherwise the visible ones among ``ids``. Genres are the track's
    own followed by its artist's (deduplicated). Features are those of any stored
    analysis (missing values are None).
    """
    tracks = await repository.tracks_for_serving(
        session, None if ids is None else list(dict.fromkeys(ids)), viewer_id
    )
    features = await repository.features_of(session, [track.id for track in tracks])
    found = []
    for track in tracks:
        genres = {genre.id: genre.name for genre in track.genres}
        for genre in track.artist.genres:
            genres.setdefault(genre.id, genre.name)
        row = features.get(track.id)
        found.append(
            ServingTrack(
                id=track.id,
                title=track.title,
                artist_id=track.artist_id,
                artist_name=track.artist.name,
                genres=tuple(genres.items()),
                created_at=analysis_features.utc(track.created_at) or track.created_at,
                owner_id=track.owner_id,
                features={name: getattr(row, name) for name in SERVING_FEATURES}
                if row is not None
                else dict.fromkeys(SERVING_FEATURES),
                embedding=analysis_features.decode_embedding(row.embedding)
                if row is not None and row.embedding
                else None,
            )
        )
    return found


async def catalog_version(session: AsyncSession) -> str:
    """A short token that changes when tracks are added, edited or (re)analysed."""
    count, updated, analysed, features = await repository.catalog_fingerprint(session)
    text = f"{count}|{updated}|{analysed}|{features}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- personal data ---------------------------------------------------------------------


async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """The user's private tracks as JSON-ready data (audio bytes via the stream endpoint)."""
    tracks = await repository.tracks_where(session, Track.owner_id == user_id)
    return UserCatalogExport(private_tracks=[track_out(track) for track in tracks]).as_dict()


async def delete_user_data(
    session: AsyncSession, user_id: uuid.UUID, *, objects: ObjectStore | None = None
) -> None:
    """Delete the user's private tracks, their search entries and, given ``objects``, audio.

    Runs in the caller's transaction. Audio objects are deleted at once rather
    than after the commit: personal data must go, and should the transaction
    roll back, the tracks remain and a repeat call finishes the job. Without
    ``objects`` the files stay behind unreferenced until
    :func:`purge_orphaned_audio` collects them.
    """
    tracks = await repository.tracks_where(session, Track.owner_id == user_id, for_update=True)
    if not tracks:
        return
    keys = [track.audio_key for track in tracks if track.audio_key]
    await indexing.remove(session, DocumentKind.track, [track.id for track in tracks])
    for track in tracks:
        await session.delete(track)
    await session.flush()
    if objects is None:
        return
    for key in keys:
        try:
            await objects.delete(key)
        except ObjectStoreError as exc:
            logger.warning("could not delete audio %s of user %s: %s", key, user_id, exc)


async def purge_orphaned_audio(
    session: AsyncSession, objects: ObjectStore, *, older_than_s: float = 3600
) -> int:
    """Delete audio objects no track references; returns how many.

    Only objects older than ``older_than_s`` go, so an upload whose transaction
    has not committed yet is left alone.
    """
    referenced = await repository.referenced_audio_keys(session)
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    removed = 0
    for info in await objects.list("audio/"):
        if info.key not in referenced and info.last_modified < cutoff:
            await objects.delete(info.key)
            removed += 1
    return removed

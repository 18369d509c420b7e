"""The arrays a ranking engine needs, built from catalog and analytics data.

:class:`ItemSnapshot` is the item side: one row per public track, in a stable order
(track creation), with the artist index per track, a genre membership matrix,
64-d sound embeddings with a mask (unanalysed tracks have zeros and ``False``),
the :data:`~audotics.services.catalog.service.SERVING_FEATURES` matrix (NaN =
unknown; tempo/energy/valence among them), creation times (epoch seconds) and
popularity (plays + completions over every user).

:class:`SnapshotCache` keeps one snapshot per process and rebuilds it when the
catalog's version token changes (checked at most every ``check_interval_s``) or
when it is older than ``ttl_s`` (popularity moves with every listen; it is allowed
to lag by the TTL). Arrays stay in process memory: they are large, read on every
request and cheap to rebuild, so they do not go through the shared cache.

:class:`UserHistory` is the per-user side: item indices into a snapshot, event
codes (indices into :data:`audotics.ml.datasets.records.EVENTS`) and UTC epoch
seconds, oldest first; events on tracks outside the snapshot (private tracks,
deleted ones) are left out.

Everything is read through the catalog's and analytics' ``service.py`` functions.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.ml.datasets.records import EVENTS
from audotics.ml.profiles import ItemMetadata, UserEvents
from audotics.services.analytics import service as analytics
from audotics.services.catalog import service as catalog

EMBEDDING_DIM = 64
_EVENT_CODES = {name: code for code, name in enumerate(EVENTS)}


@dataclass(frozen=True)
class ItemSnapshot:
    track_ids: tuple[uuid.UUID, ...]
    titles: tuple[str, ...]
    artist_ids: tuple[uuid.UUID, ...]
    artist_names: tuple[str, ...]
    artist: np.ndarray  # (m,) int index into artist_ids
    genre_ids: tuple[uuid.UUID, ...]
    genre_names: tuple[str, ...]
    genres: np.ndarray  # (m, g) bool
    feature_names: tuple[str, ...]
    features: np.ndarray  # (m, k) float64, NaN = unknown
    embeddings: np.ndarray  # (m, 64) float32
    embedding_mask: np.ndarray  # (m,) bool
    created_at: np.ndarray  # (m,) float epoch seconds
    popularity: np.ndarray  # (m,) int64
    total_plays: int  # over every track, including ones outside this snapshot
    version: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {tid: i for i, tid in enumerate(self.track_ids)})

    def __len__(self) -> int:
        return len(self.track_ids)

    def index_of(self, track_id: uuid.UUID) -> int | None:
        found: int | None = self._index.get(track_id)  # type: ignore[attr-defined]
        return found

    def feature(self, name: str) -> np.ndarray:
        return self.features[:, self.feature_names.index(name)]

    def item_metadata(self) -> ItemMetadata:
        """The view :func:`audotics.ml.profiles.build_taste_profile` takes."""
        return ItemMetadata(
            artist=self.artist,
            n_artists=len(self.artist_ids),
            genres=self.genres,
            features=self.features,
            feature_names=self.feature_names,
            embeddings=self.embeddings,
            embedding_mask=self.embedding_mask,
            popularity=self.popularity,
            total_plays=float(self.total_plays),
        )


def build_snapshot(
    tracks: Sequence[catalog.ServingTrack], popularity: dict[uuid.UUID, int], version: str = ""
) -> ItemSnapshot:
    """Arrays from plain track records (pure: no I/O)."""
    artist_index: dict[uuid.UUID, int] = {}
    artist_names: list[str] = []
    genre_index: dict[uuid.UUID, int] = {}
    genre_names: list[str] = []
    m = len(tracks)
    artist = np.zeros(m, np.int64)
    memberships: list[list[int]] = []
    embeddings = np.zeros((m, EMBEDDING_DIM), np.float32)
    mask = np.zeros(m, bool)
    names = catalog.SERVING_FEATURES
    features = np.full((m, len(names)), np.nan)
    for i, track in enumerate(tracks):
        if track.artist_id not in artist_index:
            artist_index[track.artist_id] = len(artist_names)
            artist_names.append(track.artist_name)
        artist[i] = artist_index[track.artist_id]
        row = []
        for genre_id, genre_name in track.genres:
            if genre_id not in genre_index:
                genre_index[genre_id] = len(genre_names)
                genre_names.append(genre_name)
            row.append(genre_index[genre_id])
        memberships.append(row)
        for j, name in enumerate(names):
            value = track.features.get(name)
            if value is not None:
                features[i, j] = value
        if track.embedding is not None and track.embedding.shape == (EMBEDDING_DIM,):
            embeddings[i] = track.embedding
            mask[i] = True
    genres = np.zeros((m, len(genre_names)), bool)
    for i, row in enumerate(memberships):
        genres[i, row] = True
    return ItemSnapshot(
        track_ids=tuple(track.id for track in tracks),
        titles=tuple(track.title for track in tracks),
        artist_ids=tuple(artist_index),
        artist_names=tuple(artist_names),
        artist=artist,
        genre_ids=tuple(genre_index),
        genre_names=tuple(genre_names),
        genres=genres,
        feature_names=names,
        features=features,
        embeddings=embeddings,
        embedding_mask=mask,
        created_at=np.array([track.created_at.timestamp() for track in tracks], np.float64),
        popularity=np.array([popularity.get(track.id, 0) for track in tracks], np.int64),
        total_plays=int(sum(popularity.values())),
        version=version,
    )


async def load_item_snapshot(
    session: AsyncSession,
    *,
    track_ids: Sequence[uuid.UUID] | None = None,
    viewer_id: uuid.UUID | None = None,
) -> ItemSnapshot:
    """The snapshot of every public track (or of the visible ones among ``track_ids``)."""
    version = await catalog.catalog_version(session)
    tracks = await catalog.serving_tracks(session, track_ids, viewer_id)
    popularity = await analytics.track_popularity(session)
    return build_snapshot(tracks, popularity, version)


class SnapshotCache:
    """One :class:`ItemSnapshot` per process, rebuilt on a catalog change or after a TTL."""

    def __init__(self, *, ttl_s: float = 600.0, check_interval_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self.check_interval_s = check_interval_s
        self._snapshot: ItemSnapshot | None = None
        self._built_at = 0.0
        self._checked_at = 0.0
        self._lock = asyncio.Lock()
        self.builds = 0

    def invalidate(self) -> None:
        self._snapshot = None

    async def get(self, session: AsyncSession) -> ItemSnapshot:
        async with self._lock:
            now = time.monotonic()
            current = self._snapshot
            if current is not None and now - self._built_at < self.ttl_s:
                if now - self._checked_at < self.check_interval_s:
                    return current
                self._checked_at = now
                if await catalog.catalog_version(session) == current.version:
                    return current
            self._snapshot = await load_item_snapshot(session)
            self._built_at = self._checked_at = time.monotonic()
            self.builds += 1
            return self._snapshot


@dataclass(frozen=True)
class UserHistory:
    items: np.ndarray  # (n,) int indices into the snapshot
    events: np.ndarray  # (n,) int codes into EVENTS
    timestamps: np.ndarray  # (n,) float UTC epoch seconds, ascending
    track_ids: tuple[uuid.UUID, ...]  # per event, for callers that need the ids

    def user_events(self) -> UserEvents:
        return UserEvents(self.items, self.events, self.timestamps)


def history_arrays(records: Sequence[analytics.EventRecord], snapshot: ItemSnapshot) -> UserHistory:
    """Events (any order) as arrays over ``snapshot``, oldest first (pure)."""
    kept = [
        (index, _EVENT_CODES[record.event], record.occurred_at.timestamp(), record.track_id)
        for record in records
        if record.event in _EVENT_CODES
        and (index := snapshot.index_of(record.track_id)) is not None
    ]
    kept.sort(key=lambda row: row[2])
    return UserHistory(
        items=np.array([row[0] for row in kept], np.int64),
        events=np.array([row[1] for row in kept], np.int64),
        timestamps=np.array([row[2] for row in kept], np.float64),
        track_ids=tuple(row[3] for row in kept),
    )


async def load_user_history(
    session: AsyncSession, user_id: uuid.UUID, snapshot: ItemSnapshot, *, limit: int = 5000
) -> UserHistory:
    """The user's latest ``limit`` events as arrays over ``snapshot``."""
    return history_arrays(await analytics.recent_events(session, user_id, limit=limit), snapshot)

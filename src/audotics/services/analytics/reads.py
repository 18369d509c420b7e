"""Bulk reads for the machine-learning side: the CF training log, a user's recent events,
a cheap history token for cache keys and global track popularity."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.ml.datasets.interactions import EVENT_CODE, Interactions
from audotics.services.analytics import repository
from audotics.services.analytics.schemas import ItemKind

# --- training log ---------------------------------------------------------------------------


async def training_log(session: AsyncSession, *, batch: int = 50_000) -> Interactions:
    """Every track-level event of everyone, as the log collaborative filtering trains on.

    Users are ``str(user_id)``, items ``str(track_id)`` (catalog track ids). Each listen
    is one row (count 1, its time, its event); each imported track play count (no
    time) one ``play`` row with that count and a NaN time. Artist-level counts are not
    track interactions and stay out. The result is canonical: id lists sorted, rows
    sorted by (user, time, item, event, count), so the same stored data always gives
    the same log (and the same snapshot id) whatever order the database returns.
    """
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    user_col: list[int] = []
    item_col: list[int] = []
    count_col: list[float] = []
    time_col: list[float] = []
    event_col: list[int] = []
    async for rows in repository.stream_listen_events(session, batch):
        for user_id, track_id, event, occurred_at in rows:
            user_col.append(users.setdefault(str(user_id), len(users)))
            item_col.append(items.setdefault(str(track_id), len(items)))
            count_col.append(1.0)
            time_col.append(as_utc(occurred_at).timestamp())
            event_col.append(EVENT_CODE[event])
    async for rows in repository.stream_play_counts(session, ItemKind.track.value, batch):
        for user_id, track_id, plays in rows:
            user_col.append(users.setdefault(str(user_id), len(users)))
            item_col.append(items.setdefault(str(track_id), len(items)))
            count_col.append(float(plays))
            time_col.append(float("nan"))
            event_col.append(EVENT_CODE["play"])
    user_ids, user_remap = _sorted_ids(users)
    item_ids, item_remap = _sorted_ids(items)
    user = user_remap[np.asarray(user_col, dtype=np.int64)].astype(np.int32)
    item = item_remap[np.asarray(item_col, dtype=np.int64)].astype(np.int32)
    count = np.asarray(count_col, dtype=np.float32)
    timestamp = np.asarray(time_col, dtype=np.float64)
    event = np.asarray(event_col, dtype=np.int8)
    order = np.lexsort((count, event, item, np.nan_to_num(timestamp, nan=-np.inf), user))
    return Interactions(
        user_ids=user_ids,
        item_ids=item_ids,
        user=user[order],
        item=item[order],
        count=count[order],
        timestamp=timestamp[order],
        event=event[order],
    )


def _sorted_ids(index: dict[str, int]) -> tuple[tuple[str, ...], np.ndarray]:
    """The ids in sorted order, and old index -> new index."""
    ordered = sorted(index)
    remap = np.empty(len(index), dtype=np.int64)
    for new, name in enumerate(ordered):
        remap[index[name]] = new
    return tuple(ordered), remap


# --- reads for recommendations --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored listening event, as plain values."""

    track_id: uuid.UUID
    artist_id: uuid.UUID | None
    event: str
    occurred_at: datetime


async def recent_events(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int = 5000
) -> list[EventRecord]:
    """The user's latest ``limit`` events, newest first (timestamps in UTC)."""
    rows = await repository.recent_events(session, user_id, limit)
    return [EventRecord(track, artist, event, as_utc(at)) for track, artist, event, at in rows]


async def history_version(session: AsyncSession, user_id: uuid.UUID) -> str:
    """A short token that changes whenever the user's history does (new listens, imported
    counts, likes), for cache keys: two aggregate queries, no rows read."""
    count, latest, plays, likes = await repository.history_fingerprint(session, user_id)
    stamp = as_utc(latest).isoformat() if latest else "-"
    return hashlib.sha256(f"{count}|{stamp}|{plays}|{likes}".encode()).hexdigest()[:16]


async def track_popularity(session: AsyncSession) -> dict[uuid.UUID, int]:
    """Plays + completions per track over every user (tracks never played are absent)."""
    return await repository.track_popularity(session)

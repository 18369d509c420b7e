"""The analytics service: listening history, per-item aggregates, imported counts, follows.

Public functions, for the HTTP routes, importers and other services:

- :func:`record_listens`: a listener's submission (checks track visibility,
  stores, commits, publishes ``listen.recorded``);
- :func:`store_listens`, :func:`set_play_counts`, :func:`add_follows`: bulk
  writes for importers, in the caller's transaction; :func:`follow`, :func:`unfollow`,
  :func:`following_list`, :func:`followers_list`: the listener's own social graph
  (``follows.py``);
- :func:`list_listens`, :func:`listening_stats`, :func:`interactions`,
  :func:`following`, :func:`followers`: reads;
- :func:`training_log`: every track event as an interaction log, the CF training input;
- :func:`recent_events`, :func:`history_version`, :func:`track_popularity`: plain reads
  for the recommendation service (a user's events as records, a cheap token that
  changes whenever their history does, global play counts per track);
- :func:`export_user_data`, :func:`delete_user_data`: the personal-data contract.

Idempotency: every listen has a ``dedup_key``, unique per user:
``"c:" + client_key`` when the client gave one, else a hash of (track_id, event,
occurred_at) (:func:`dedup_key`), so the same listen sent twice, through the API
or an import, is stored once.

Aggregates (``item_interactions``, per user and track and per user and artist)
change in the same transaction as the listens: ``plays`` counts "play" events,
``completes`` "complete", ``skips`` "skip", ``likes`` is likes minus unlikes,
``last_at`` the latest event. Imported play counts (no timestamps) count in
``plays`` with their latest total per (user, item, source).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.infra.db import new_id, utcnow
from audotics.infra.events.base import EventBus
from audotics.ml.datasets.interactions import EVENT_CODE, Interactions
from audotics.problems import Unprocessable
from audotics.services.analytics import history, repository
from audotics.services.analytics.follows import follow, followers_list, following_list, unfollow
from audotics.services.analytics.history import (
    followers,
    following,
    interactions,
    list_listens,
    listening_stats,
)
from audotics.services.analytics.models import EXTERNAL_ID_MAX_LENGTH
from audotics.services.analytics.schemas import (
    ItemKind,
    ListenEvent,
    ListenIn,
    ListensRecorded,
    NewListen,
    NewPlayCount,
    StoredCounts,
    StoredListens,
    to_utc,
)
from audotics.services.catalog import service as catalog

__all__ = [
    "API_SOURCE",
    "LISTEN_RECORDED",
    "EventRecord",
    "add_follows",
    "dedup_key",
    "delete_user_data",
    "export_user_data",
    "follow",
    "followers",
    "followers_list",
    "following",
    "following_list",
    "history_version",
    "interactions",
    "is_imported_account",
    "list_listens",
    "listening_stats",
    "publish_recorded",
    "recent_events",
    "record_imported_account",
    "record_listens",
    "set_play_counts",
    "store_listens",
    "track_popularity",
    "training_log",
    "unfollow",
]

logger = logging.getLogger("audotics.analytics")

LISTEN_RECORDED = "listen.recorded"
API_SOURCE = "api"
_DERIVED_PREFIX = "h:"
_EVENT_FIELDS = {
    ListenEvent.play: "plays",
    ListenEvent.complete: "completes",
    ListenEvent.skip: "skips",
    ListenEvent.like: "likes",
    ListenEvent.unlike: "likes",
}


def dedup_key(
    track_id: uuid.UUID,
    event: ListenEvent | str,
    occurred_at: datetime,
    *,
    client_key: str | None = None,
    occurrence: int = 0,
) -> str:
    """The idempotency key of a listen; ``occurrence`` tells apart repeats at one instant."""
    if client_key is not None:
        return history.CLIENT_PREFIX + client_key
    text = f"{track_id}|{ListenEvent(event).value}|{to_utc(occurred_at).isoformat()}"
    if occurrence:
        text += f"|{occurrence}"
    return _DERIVED_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:40]


# --- writing --------------------------------------------------------------------------------


async def record_listens(
    session: AsyncSession,
    user_id: uuid.UUID,
    listens: Sequence[ListenIn],
    *,
    events: EventBus | None = None,
    source: str = API_SOURCE,
) -> ListensRecorded:
    """Store a listener's listens, all or nothing, then commit and publish ``listen.recorded``.

    Every track must be visible to the user: otherwise a 422 problem lists the
    indexes (``invalid_indexes``) and nothing is stored. Listens already stored
    (same dedup key) are counted as duplicates and left unchanged. The event
    (``{user_id, new, track_ids, source}``) is published after the commit and only
    when something was new; a failure to publish is logged, the listens stay.
    """
    visible = await catalog.get_tracks(session, [listen.track_id for listen in listens], user_id)
    invalid = [i for i, listen in enumerate(listens) if listen.track_id not in visible]
    if invalid:
        raise Unprocessable(
            f"{len(invalid)} listen(s) name a track that does not exist or is not visible "
            "to you; nothing was stored.",
            title="Unknown track",
            invalid_indexes=invalid,
            errors=[
                {"field": f"listens.{i}.track_id", "message": "unknown track"} for i in invalid
            ],
        )
    rows = [
        NewListen(
            user_id=user_id,
            track_id=listen.track_id,
            artist_id=visible[listen.track_id].artist.id,
            event=listen.event,
            occurred_at=to_utc(listen.occurred_at),
            play_duration_s=listen.play_duration_s,
            source=source,
            dedup_key=dedup_key(
                listen.track_id, listen.event, listen.occurred_at, client_key=listen.client_key
            ),
        )
        for listen in listens
    ]
    stored = await store_listens(session, rows)
    await session.commit()
    if events is not None and stored.new:
        await publish_recorded(
            events, user_id, stored.new, stored.tracks_by_user.get(user_id, []), source
        )
    return ListensRecorded(received=len(rows), new=stored.new, duplicates=len(rows) - stored.new)


async def publish_recorded(
    events: EventBus,
    user_id: uuid.UUID,
    new: int,
    track_ids: Sequence[uuid.UUID],
    source: str,
) -> None:
    """Announce new listens of one user (profiles and caches refresh on it); never raises."""
    payload = {
        "user_id": str(user_id),
        "new": new,
        "track_ids": [str(track_id) for track_id in list(dict.fromkeys(track_ids))[:1000]],
        "source": source,
    }
    try:
        await events.publish(LISTEN_RECORDED, payload)
    except Exception:  # the listens are committed; consumers catch up on the next event
        logger.warning("could not publish %s for user %s", LISTEN_RECORDED, user_id, exc_info=True)


async def store_listens(session: AsyncSession, listens: Sequence[NewListen]) -> StoredListens:
    """Insert the listens not stored yet and update the aggregates; no commit, no checks.

    For importers and other trusted callers, which resolved the tracks themselves.
    """
    now = utcnow()
    unique: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for listen in listens:
        unique.setdefault(
            (listen.user_id, listen.dedup_key),
            {
                "id": new_id(),
                "user_id": listen.user_id,
                "track_id": listen.track_id,
                "artist_id": listen.artist_id,
                "event": ListenEvent(listen.event).value,
                "occurred_at": to_utc(listen.occurred_at),
                "play_duration_s": listen.play_duration_s,
                "source": listen.source,
                "dedup_key": listen.dedup_key,
                "created_at": now,
            },
        )
    # Key order: concurrent writers of one user's listens wait on each other, never deadlock.
    rows = sorted(unique.values(), key=lambda row: (str(row["user_id"]), row["dedup_key"]))
    inserted = await repository.insert_listens(session, rows)
    deltas = _Deltas()
    new_by_user: dict[uuid.UUID, int] = defaultdict(int)
    tracks_by_user: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for user_id, track_id, artist_id, event, occurred_at in inserted:
        new_by_user[user_id] += 1
        tracks_by_user[user_id].append(track_id)
        deltas.add_event(user_id, ItemKind.track, track_id, event, occurred_at)
        if artist_id is not None:
            deltas.add_event(user_id, ItemKind.artist, artist_id, event, occurred_at)
    await repository.add_to_interactions(session, deltas.rows())
    return StoredListens(
        received=len(listens),
        new=len(inserted),
        new_by_user=dict(new_by_user),
        tracks_by_user=dict(tracks_by_user),
    )


async def set_play_counts(session: AsyncSession, counts: Sequence[NewPlayCount]) -> StoredCounts:
    """Imported plays without timestamps: one total per (user, item, source).

    Counts for one key within ``counts`` are summed; the total replaces what an earlier
    call stored for that key, and the aggregates move by the difference, so importing
    the same data again changes nothing and a newer export corrects an older one.
    """
    now = utcnow()
    merged: dict[tuple[str, str], dict[tuple[uuid.UUID, uuid.UUID], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for count in counts:
        if count.plays > 0:
            group = merged[(count.source, ItemKind(count.item_kind).value)]
            group[(count.user_id, count.item_id)] += count.plays
    written = unchanged = 0
    deltas = _Deltas()
    for (source, kind), totals in merged.items():
        before = await repository.play_counts_among(
            session,
            source=source,
            item_kind=kind,
            user_ids={user for user, _ in totals},
            item_ids={item for _, item in totals},
        )
        rows = []
        for (user_id, item_id), plays in totals.items():
            change = plays - before.get((user_id, item_id), 0)
            if not change:
                unchanged += 1
                continue
            deltas.add(user_id, kind, item_id, plays=change)
            rows.append(
                {
                    "user_id": user_id,
                    "item_kind": kind,
                    "item_id": item_id,
                    "source": source,
                    "plays": plays,
                    "imported_at": now,
                }
            )
        await repository.upsert_play_counts(session, rows)
        written += len(rows)
    await repository.add_to_interactions(session, deltas.rows())
    return StoredCounts(written=written, unchanged=unchanged)


async def add_follows(
    session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]], *, source: str
) -> int:
    """``(follower, followed)`` edges; self-follows and existing edges are skipped.

    Returns how many were new.
    """
    now = utcnow()
    edges = {(a, b) for a, b in pairs if a != b}
    rows = [
        {"user_id": a, "follows_user_id": b, "source": source, "created_at": now}
        for a, b in sorted(edges, key=lambda edge: (str(edge[0]), str(edge[1])))
    ]
    return await repository.insert_follows(session, rows)


async def record_imported_account(
    session: AsyncSession, user_id: uuid.UUID, *, source: str, external_id: str
) -> None:
    """Remember that an importer created this account, for ``external_id`` in ``source``."""
    await repository.insert_imported_account(
        session,
        {
            "user_id": user_id,
            "source": source,
            "external_id": external_id[:EXTERNAL_ID_MAX_LENGTH],
            "created_at": utcnow(),
        },
    )


async def is_imported_account(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Whether an importer created the account (importers add history only to those)."""
    return await repository.imported_account(session, user_id) is not None


class _Deltas:
    """Aggregate deltas merged per (user, kind, item): one row each per statement."""

    def __init__(self) -> None:
        self._rows: dict[tuple[uuid.UUID, str, uuid.UUID], dict[str, Any]] = {}

    def add(
        self,
        user_id: uuid.UUID,
        kind: str,
        item_id: uuid.UUID,
        *,
        plays: int = 0,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        row = self._rows.get((user_id, kind, item_id))
        if row is None:
            row = self._rows[(user_id, kind, item_id)] = {
                "user_id": user_id,
                "item_kind": kind,
                "item_id": item_id,
                "plays": 0,
                "completes": 0,
                "skips": 0,
                "likes": 0,
                "last_at": None,
            }
        row["plays"] += plays
        if at is not None and (row["last_at"] is None or at > row["last_at"]):
            row["last_at"] = at
        return row

    def add_event(
        self, user_id: uuid.UUID, kind: str, item_id: uuid.UUID, event: str, at: datetime
    ) -> None:
        row = self.add(user_id, kind, item_id, at=as_utc(at))
        event = ListenEvent(event)
        row[_EVENT_FIELDS[event]] += -1 if event is ListenEvent.unlike else 1

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows.values())


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


# --- personal data --------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Every listen, aggregate, imported count and follow edge of the user."""
    listens = await repository.all_listens(session, user_id)
    aggregates = await repository.all_interactions(session, user_id)
    counts = await repository.play_counts_of(session, user_id)
    imported = await repository.imported_account(session, user_id)
    return {
        "listens": [
            {
                "id": str(row.id),
                "track_id": str(row.track_id),
                "artist_id": str(row.artist_id) if row.artist_id else None,
                "event": row.event,
                "occurred_at": _iso(row.occurred_at),
                "play_duration_s": row.play_duration_s,
                "source": row.source,
                "client_key": history.client_key_of(row.dedup_key),
                "recorded_at": _iso(row.created_at),
            }
            for row in listens
        ],
        "interactions": [
            {"item_kind": row.item_kind, "item_id": str(row.item_id), **history.totals(row)}
            | {"last_at": _iso(row.last_at)}
            for row in aggregates
        ],
        "imported_play_counts": [
            {
                "item_kind": row.item_kind,
                "item_id": str(row.item_id),
                "source": row.source,
                "plays": row.plays,
                "imported_at": _iso(row.imported_at),
            }
            for row in counts
        ],
        "following": [str(user) for user in await following(session, user_id)],
        "imported_as": {"source": imported.source, "external_id": imported.external_id}
        if imported
        else None,
    }


async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the user's listens, aggregates, imported counts, follow edges both ways and
    the note that an importer made the account."""
    await repository.delete_everything_of(session, user_id)

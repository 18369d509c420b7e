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
- :func:`training_log`: every track event as an interaction log, the CF training input
  (``reads.py``, with the next three);
- :func:`recent_events`, :func:`history_version`, :func:`track_popularity`: plain reads
  for the recommendation service (a user's events as records, a cheap token that
  changes whenever their history does, global play counts per track);
- :func:`export_user_data`, :func:`delete_user_data`: the personal-data contract
  (``personal.py``).

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
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.infra.db import new_id, utcnow
from audotics.infra.events.base import EventBus
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
from audotics.services.analytics.personal import delete_user_data, export_user_data
from audotics.services.analytics.reads import (
    EventRecord,
    history_version,
    recent_events,
    track_popularity,
    training_log,
)
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

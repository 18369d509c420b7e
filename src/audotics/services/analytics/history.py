"""Reading the listening history: keyset pages, statistics, the CF input, the social graph.

Re-exported by :mod:`audotics.services.analytics.service`, the service's one front door.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.problems import NotFound, Unprocessable
from audotics.services.analytics import repository
from audotics.services.analytics.models import Listen
from audotics.services.analytics.schemas import (
    MAX_TOP,
    Interaction,
    ItemKind,
    ListenEvent,
    ListeningStats,
    ListenOut,
    ListenPage,
    TopArtist,
    TopTrack,
    to_utc,
)
from audotics.services.catalog import service as catalog

CLIENT_PREFIX = "c:"


def client_key_of(dedup_key: str) -> str | None:
    """The client's key of a listen, if it sent one."""
    return dedup_key.removeprefix(CLIENT_PREFIX) if dedup_key.startswith(CLIENT_PREFIX) else None


def _encode_cursor(listen: Listen) -> str:
    raw = f"{as_utc(listen.occurred_at).isoformat()}|{listen.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, listen_id = raw.split("|")
        return to_utc(datetime.fromisoformat(moment)), uuid.UUID(listen_id)
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise Unprocessable(
            "The cursor is not one this API returned.",
            title="Invalid cursor",
            errors=[{"field": "cursor", "message": "invalid"}],
        ) from None


def _instant(moment: datetime | None, field: str) -> datetime | None:
    try:
        return to_utc(moment) if moment is not None else None
    except ValueError:
        raise Unprocessable(
            f"{field} is out of range.", errors=[{"field": field, "message": "out of range"}]
        ) from None


async def list_listens(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    limit: int = 50,
    cursor: str | None = None,
    events: Sequence[ListenEvent] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ListenPage:
    """The user's history, newest first, one keyset page at a time."""
    since, until = _instant(since, "since"), _instant(until, "until")
    if since is not None and until is not None and since >= until:
        raise Unprocessable(
            "since must be before until.",
            errors=[{"field": "since", "message": "must be before until"}],
        )
    rows = await repository.listens_page(
        session,
        user_id,
        limit=limit + 1,
        before=_decode_cursor(cursor) if cursor else None,
        events=[ListenEvent(event).value for event in events or ()],
        since=since,
        until=until,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    tracks = await catalog.get_tracks(session, [row.track_id for row in rows], user_id)
    items = [
        ListenOut(
            id=row.id,
            track_id=row.track_id,
            event=ListenEvent(row.event),
            occurred_at=row.occurred_at,
            play_duration_s=row.play_duration_s,
            source=row.source,
            client_key=client_key_of(row.dedup_key),
            recorded_at=row.created_at,
            track=tracks.get(row.track_id),
        )
        for row in rows
    ]
    return ListenPage(items=items, next_cursor=_encode_cursor(rows[-1]) if more else None)


async def listening_stats(
    session: AsyncSession, user_id: uuid.UUID, *, top: int = 10
) -> ListeningStats:
    """Counts per event, first/last listen, an hour-of-day histogram and top items."""
    top = max(1, min(top, MAX_TOP))
    counts = await repository.event_counts(session, user_id)
    first_at, last_at, distinct_tracks = await repository.history_span(session, user_id)
    hours = await repository.hour_histogram(session, user_id)
    track_rows = await repository.top_items(session, user_id, ItemKind.track.value, top)
    artist_rows = await repository.top_items(session, user_id, ItemKind.artist.value, top)
    tracks = await catalog.get_tracks(session, [row.item_id for row in track_rows], user_id)
    names = await _artist_names(session, [row.item_id for row in artist_rows])
    return ListeningStats(
        listens=sum(counts.values()),
        events={event: counts.get(event.value, 0) for event in ListenEvent},
        distinct_tracks=distinct_tracks,
        first_at=first_at,
        last_at=last_at,
        hours=[hours.get(hour, 0) for hour in range(24)],
        top_tracks=[
            TopTrack(track_id=row.item_id, track=tracks.get(row.item_id), **totals(row))
            for row in track_rows
        ],
        top_artists=[
            TopArtist(artist_id=row.item_id, name=names.get(row.item_id), **totals(row))
            for row in artist_rows
        ],
    )


async def _artist_names(
    session: AsyncSession, artist_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    names = {}
    for artist_id in artist_ids:  # at most MAX_TOP
        try:
            names[artist_id] = (await catalog.get_artist(session, artist_id)).name
        except NotFound:
            continue
    return names


def totals(row: Any) -> dict[str, Any]:
    return {
        "plays": row.plays,
        "completes": row.completes,
        "skips": row.skips,
        "likes": row.likes,
        "last_at": row.last_at,
    }


async def interactions(
    session: AsyncSession, item_kind: ItemKind = ItemKind.track, user_id: uuid.UUID | None = None
) -> list[Interaction]:
    """The aggregate rows of one item kind (everyone's, or one user's): the CF input."""
    kind = ItemKind(item_kind)
    rows = await repository.interaction_rows(session, kind.value, user_id)
    return [
        Interaction(
            user_id=user,
            item_kind=kind,
            item_id=item_id,
            plays=plays,
            completes=completes,
            skips=skips,
            likes=likes,
            last_at=as_utc(last_at) if last_at else None,
        )
        for user, _, item_id, plays, completes, skips, likes, last_at in rows
    ]


async def following(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Whom the user follows, oldest edge first."""
    return await repository.followed_ids(session, user_id)


async def followers(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    return [row.user_id for row in await repository.followers_of(session, user_id)]

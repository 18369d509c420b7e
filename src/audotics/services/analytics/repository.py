"""Queries over the analytics tables, the same SQL on SQLite and PostgreSQL.

Inserts are multi-row ``INSERT ... ON CONFLICT`` statements (SQLAlchemy's
dialect-specific ``insert``): ``DO NOTHING ... RETURNING`` tells which listens
were new, ``DO UPDATE`` adds deltas to the aggregates. Aggregate rows are
written in key order so concurrent writers lock them in the same order.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.analytics.models import (
    Follow,
    ImportedAccount,
    ItemInteraction,
    Listen,
    PlayCount,
)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT of ``model``'s table (Core, not ORM: executemany stays cheap).

    Executed with a list of rows, SQLAlchemy's "insertmanyvalues" sends them as
    multi-row statements, pages sized for either driver's parameter limit.
    """
    table = model.__table__
    return postgresql.insert(table) if _dialect(session) == "postgresql" else sqlite.insert(table)


# --- listens --------------------------------------------------------------------------------


async def insert_listens(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None, str, datetime]]:
    """Insert, skipping rows whose (user_id, dedup_key) exists; returns the inserted ones as
    (user_id, track_id, artist_id, event, occurred_at)."""
    if not rows:
        return []
    statement = _insert(session, Listen).on_conflict_do_nothing(
        index_elements=["user_id", "dedup_key"]
    )
    columns = statement.table.c
    statement = statement.returning(
        columns.user_id, columns.track_id, columns.artist_id, columns.event, columns.occurred_at
    )
    result = await session.execute(statement, list(rows))
    return [tuple(row) for row in result.all()]


async def add_to_interactions(session: AsyncSession, deltas: Sequence[dict[str, Any]]) -> None:
    """Add each delta row (user_id, item_kind, item_id, plays, completes, skips, likes,
    last_at) to its aggregate, creating it when new; last_at keeps the latest.

    One row per key (merge first): PostgreSQL refuses to update a row twice in a statement.
    """
    if not deltas:
        return
    ordered = sorted(deltas, key=lambda r: (str(r["user_id"]), r["item_kind"], str(r["item_id"])))
    statement = _insert(session, ItemInteraction)
    old, new = statement.table.c, statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "item_kind", "item_id"],
        set_={
            "plays": old.plays + new.plays,
            "completes": old.completes + new.completes,
            "skips": old.skips + new.skips,
            "likes": old.likes + new.likes,
            "last_at": case(
                (old.last_at.is_(None), new.last_at),
                (new.last_at > old.last_at, new.last_at),
                else_=old.last_at,
            ),
        },
    )
    await session.execute(statement, ordered)


def _history_filter(
    user_id: uuid.UUID,
    events: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Listen.user_id == user_id]
    if events:
        conditions.append(Listen.event.in_(list(events)))
    if since is not None:
        conditions.append(Listen.occurred_at >= since)
    if until is not None:
        conditions.append(Listen.occurred_at < until)
    return conditions


async def listens_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
    events: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Listen]:
    """Newest first; ``before`` is the keyset cursor (occurred_at, id) of the last row seen."""
    conditions = _history_filter(user_id, events, since, until)
    if before is not None:
        moment, listen_id = before
        conditions.append(
            or_(
                Listen.occurred_at < moment,
                and_(Listen.occurred_at == moment, Listen.id < listen_id),
            )
        )
    rows = await session.scalars(
        select(Listen)
        .where(*conditions)
        .order_by(Listen.occurred_at.desc(), Listen.id.desc())
        .limit(limit)
    )
    return list(rows)


async def all_listens(session: AsyncSession, user_id: uuid.UUID) -> list[Listen]:
    rows = await session.scalars(
        select(Listen).where(Listen.user_id == user_id).order_by(Listen.occurred_at, Listen.id)
    )
    return list(rows)


# --- statistics -----------------------------------------------------------------------------


async def event_counts(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        select(Listen.event, func.count()).where(Listen.user_id == user_id).group_by(Listen.event)
    )
    return {event: int(count) for event, count in rows}


async def history_span(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[datetime | None, datetime | None, int]:
    """First and last listen, and how many distinct tracks."""
    row = (
        await session.execute(
            select(
                func.min(Listen.occurred_at),
                func.max(Listen.occurred_at),
                func.count(func.distinct(Listen.track_id)),
            ).where(Listen.user_id == user_id)
        )
    ).one()
    return row[0], row[1], int(row[2] or 0)


async def hour_histogram(session: AsyncSession, user_id: uuid.UUID) -> dict[int, int]:
    """Plays and completions per UTC hour of the day."""
    moment: Any = Listen.occurred_at
    if _dialect(session) == "postgresql":
        moment = func.timezone("UTC", Listen.occurred_at)  # not the session's time zone
    hour = cast(func.extract("hour", moment), Integer)
    rows = await session.execute(
        select(hour, func.count())
        .where(Listen.user_id == user_id, Listen.event.in_(["play", "complete"]))
        .group_by(hour)
    )
    return {int(h): int(count) for h, count in rows}


async def top_items(
    session: AsyncSession, user_id: uuid.UUID, item_kind: str, limit: int
) -> list[ItemInteraction]:
    rows = await session.scalars(
        select(ItemInteraction)
        .where(
            ItemInteraction.user_id == user_id,
            ItemInteraction.item_kind == item_kind,
            ItemInteraction.plays > 0,
        )
        .order_by(
            ItemInteraction.plays.desc(),
            ItemInteraction.completes.desc(),
            ItemInteraction.item_id,
        )
        .limit(limit)
    )
    return list(rows)


_INTERACTION_COLUMNS = (
    ItemInteraction.user_id,
    ItemInteraction.item_kind,
    ItemInteraction.item_id,
    ItemInteraction.plays,
    ItemInteraction.completes,
    ItemInteraction.skips,
    ItemInteraction.likes,
    ItemInteraction.last_at,
)
# Built once (every recommendation request runs it): composing a statement costs more
# than running this one; the primary key (user_id, item_kind, item_id) serves it.
_USER_INTERACTIONS = (
    select(*_INTERACTION_COLUMNS)
    .where(
        ItemInteraction.item_kind == bindparam("item_kind"),
        ItemInteraction.user_id == bindparam("user_id"),
    )
    .order_by(ItemInteraction.user_id)
)


async def interaction_rows(
    session: AsyncSession, item_kind: str, user_id: uuid.UUID | None = None
) -> Sequence[Row[uuid.UUID, str, uuid.UUID, int, int, int, int, datetime | None]]:
    """The aggregate rows of one item kind (everyone's, or one user's) as plain rows, not
    ORM objects: every recommendation request and the serving state's rebuild read them."""
    if user_id is not None:
        result = await session.execute(
            _USER_INTERACTIONS, {"item_kind": item_kind, "user_id": user_id}
        )
    else:
        result = await session.execute(
            select(*_INTERACTION_COLUMNS)
            .where(ItemInteraction.item_kind == item_kind)
            .order_by(ItemInteraction.user_id)
        )
    return result.all()


async def all_interactions(session: AsyncSession, user_id: uuid.UUID) -> list[ItemInteraction]:
    rows = await session.scalars(
        select(ItemInteraction)
        .where(ItemInteraction.user_id == user_id)
        .order_by(ItemInteraction.item_kind, ItemInteraction.item_id)
    )
    return list(rows)


# --- imported play counts -------------------------------------------------------------------


async def play_counts_among(
    session: AsyncSession,
    *,
    source: str,
    item_kind: str,
    user_ids: Collection[uuid.UUID],
    item_ids: Collection[uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Stored totals of (user, item) for these users and items (a superset of the pairs)."""
    found: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    items = list(item_ids)
    for start in range(0, len(items), 10_000):
        rows = await session.execute(
            select(PlayCount.user_id, PlayCount.item_id, PlayCount.plays).where(
                PlayCount.source == source,
                PlayCount.item_kind == item_kind,
                PlayCount.user_id.in_(list(user_ids)),
                PlayCount.item_id.in_(items[start : start + 10_000]),
            )
        )
        found.update({(user, item): int(plays) for user, item, plays in rows})
    return found


async def upsert_play_counts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _insert(session, PlayCount)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "item_kind", "item_id", "source"],
        set_={"plays": statement.excluded.plays, "imported_at": statement.excluded.imported_at},
    )
    await session.execute(
        statement, sorted(rows, key=lambda r: (str(r["user_id"]), str(r["item_id"])))
    )


async def play_counts_of(session: AsyncSession, user_id: uuid.UUID) -> list[PlayCount]:
    rows = await session.scalars(
        select(PlayCount)
        .where(PlayCount.user_id == user_id)
        .order_by(PlayCount.source, PlayCount.item_kind, PlayCount.item_id)
    )
    return list(rows)


# --- follows --------------------------------------------------------------------------------


async def insert_follows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert edges not present yet; returns how many were new."""
    if not rows:
        return 0
    statement = _insert(session, Follow).on_conflict_do_nothing(
        index_elements=["user_id", "follows_user_id"]
    )
    result = await session.execute(statement.returning(statement.table.c.user_id), list(rows))
    return len(result.all())


async def follows_of(session: AsyncSession, user_id: uuid.UUID) -> list[Follow]:
    rows = await session.scalars(
        select(Follow).where(Follow.user_id == user_id).order_by(Follow.created_at)
    )
    return list(rows)


_FOLLOWED_IDS = (
    select(Follow.follows_user_id)
    .where(Follow.user_id == bindparam("user_id"))
    .order_by(Follow.created_at, Follow.follows_user_id)
)


async def followed_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Whom ``user_id`` follows, oldest edge first: :func:`follows_of`'s ids alone (a
    statement built once: every recommendation request reads it)."""
    rows = await session.scalars(_FOLLOWED_IDS, {"user_id": user_id})
    return list(rows)


async def followers_of(session: AsyncSession, user_id: uuid.UUID) -> list[Follow]:
    rows = await session.scalars(
        select(Follow).where(Follow.follows_user_id == user_id).order_by(Follow.created_at)
    )
    return list(rows)


async def delete_follow(session: AsyncSession, user_id: uuid.UUID, followed: uuid.UUID) -> bool:
    result = await session.execute(
        delete(Follow).where(Follow.user_id == user_id, Follow.follows_user_id == followed)
    )
    return bool(getattr(result, "rowcount", 0))


# --- imported accounts ----------------------------------------------------------------------


async def insert_imported_account(session: AsyncSession, row: dict[str, Any]) -> None:
    statement = _insert(session, ImportedAccount).on_conflict_do_nothing(index_elements=["user_id"])
    await session.execute(statement, [row])


async def imported_account(session: AsyncSession, user_id: uuid.UUID) -> ImportedAccount | None:
    return await session.get(ImportedAccount, user_id)


# --- personal data --------------------------------------------------------------------------


async def delete_everything_of(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(Listen).where(Listen.user_id == user_id))
    await session.execute(delete(ItemInteraction).where(ItemInteraction.user_id == user_id))
    await session.execute(delete(PlayCount).where(PlayCount.user_id == user_id))
    await session.execute(
        delete(Follow).where(or_(Follow.user_id == user_id, Follow.follows_user_id == user_id))
    )
    await session.execute(delete(ImportedAccount).where(ImportedAccount.user_id == user_id))


# --- training log ---------------------------------------------------------------------------


async def stream_listen_events(session: AsyncSession, batch: int) -> AsyncIterator[Sequence[Any]]:
    """Every listen as (user_id, track_id, event, occurred_at), in batches (server-side)."""
    result = await session.stream(
        select(Listen.user_id, Listen.track_id, Listen.event, Listen.occurred_at).execution_options(
            yield_per=batch
        )
    )
    async for rows in result.partitions(batch):
        yield rows


async def stream_play_counts(
    session: AsyncSession, item_kind: str, batch: int
) -> AsyncIterator[Sequence[Any]]:
    """Imported totals of one item kind as (user_id, item_id, plays), in batches."""
    result = await session.stream(
        select(PlayCount.user_id, PlayCount.item_id, PlayCount.plays)
        .where(PlayCount.item_kind == item_kind, PlayCount.plays > 0)
        .execution_options(yield_per=batch)
    )
    async for rows in result.partitions(batch):
        yield rows


# --- reads for recommendations --------------------------------------------------------------


async def recent_events(
    session: AsyncSession, user_id: uuid.UUID, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID | None, str, datetime]]:
    """(track_id, artist_id, event, occurred_at), newest first."""
    rows = await session.execute(
        select(Listen.track_id, Listen.artist_id, Listen.event, Listen.occurred_at)
        .where(Listen.user_id == user_id)
        .order_by(Listen.occurred_at.desc(), Listen.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def history_fingerprint(session: AsyncSession, user_id: uuid.UUID) -> tuple[Any, ...]:
    listens = (
        await session.execute(
            select(func.count(), func.max(Listen.created_at)).where(Listen.user_id == user_id)
        )
    ).one()
    totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(ItemInteraction.plays), 0),
                func.coalesce(func.sum(ItemInteraction.likes), 0),
            ).where(ItemInteraction.user_id == user_id)
        )
    ).one()
    return (int(listens[0] or 0), listens[1], int(totals[0]), int(totals[1]))


async def track_popularity(session: AsyncSession) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(
            ItemInteraction.item_id,
            func.sum(ItemInteraction.plays + ItemInteraction.completes),
        )
        .where(ItemInteraction.item_kind == "track")
        .group_by(ItemInteraction.item_id)
    )
    return {item_id: int(total or 0) for item_id, total in rows}

"""The order of a playlist's entries.

Every entry carries a sparse integer ``rank``; the playlist's order is
``ORDER BY rank`` and the public ``position`` is the 0-based index in that order.

* Appending takes ``last rank + GAP``; inserting or moving between two
  neighbours takes evenly spaced ranks between theirs, so no other row is
  rewritten. Only when a gap is used up (about 20 bisections at one spot) is
  the playlist rebalanced: every entry gets a fresh GAP-spaced rank above the
  current maximum, in one rare O(n) pass that never collides with a live rank.
* Ranks are only ever chosen while the playlist row is locked by
  :func:`.repository.lock_playlist`, which is the first write of every mutation: an
  ``UPDATE ... SET version = version + 1``. PostgreSQL then holds the row lock
  until commit (concurrent editors queue on it; READ COMMITTED lets each of
  their later statements see the winner's entries). SQLite takes its single
  write lock at that same statement - the driver opens the transaction there,
  and nothing before it held a read snapshot - so writers queue through
  ``busy_timeout`` instead of failing with "database is locked".
* The unique index on (playlist_id, rank) makes duplicate places impossible
  even if that protocol were ever broken: such a write fails rather than
  silently mis-ordering entries.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Unprocessable
from audotics.services.playlists import repository
from audotics.services.playlists.models import PlaylistItem
from audotics.services.playlists.schemas import MoveItem

GAP = 1 << 20


async def ranks_around_index(
    session: AsyncSession, playlist_id: uuid.UUID, index: int, excluding: uuid.UUID | None
) -> tuple[int | None, int | None]:
    """Ranks of the entries that would sit left and right of a new entry at ``index``.

    ``excluding`` leaves one entry out, as if already taken out of the list (a move).
    """
    query = select(PlaylistItem.rank).where(PlaylistItem.playlist_id == playlist_id)
    if excluding is not None:
        query = query.where(PlaylistItem.id != excluding)
    query = query.order_by(PlaylistItem.rank)
    if index == 0:
        right = await session.scalar(query.limit(1))
        return None, right
    ranks = list(await session.scalars(query.offset(index - 1).limit(2)))
    left = ranks[0] if ranks else None  # callers clamp index to the length, so this exists
    right = ranks[1] if len(ranks) > 1 else None
    return left, right


async def neighbour_rank(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    rank: int,
    *,
    after: bool,
    excluding: uuid.UUID | None,
) -> int | None:
    """Rank of the entry right after (or right before) ``rank``."""
    query = select(PlaylistItem.rank).where(PlaylistItem.playlist_id == playlist_id)
    if excluding is not None:
        query = query.where(PlaylistItem.id != excluding)
    if after:
        query = query.where(PlaylistItem.rank > rank).order_by(PlaylistItem.rank)
    else:
        query = query.where(PlaylistItem.rank < rank).order_by(PlaylistItem.rank.desc())
    return await session.scalar(query.limit(1))


def spaced_ranks(left: int | None, right: int | None, count: int) -> list[int] | None:
    """``count`` increasing ranks strictly between ``left`` and ``right``; None if no room."""
    if left is None and right is None:
        return [GAP * (i + 1) for i in range(count)]
    if right is None:
        assert left is not None
        return [left + GAP * (i + 1) for i in range(count)]
    if left is None:
        return [right - GAP * (count - i) for i in range(count)]
    step = (right - left) // (count + 1)
    if step < 1:
        return None
    return [left + step * (i + 1) for i in range(count)]


async def rebalance(session: AsyncSession, playlist_id: uuid.UUID) -> None:
    """Re-space every entry GAP apart, keeping order, above the current maximum rank.

    Moving upwards means no new rank ever equals a rank still in use, so the
    unique index holds at every row of the bulk update. Entries already loaded
    keep their old rank in memory: read them again through :func:`item_in`.
    """
    rows = (
        await session.execute(
            select(PlaylistItem.id, PlaylistItem.rank)
            .where(PlaylistItem.playlist_id == playlist_id)
            .order_by(PlaylistItem.rank)
        )
    ).all()
    if not rows:
        return
    base = rows[-1].rank
    await session.execute(
        update(PlaylistItem),
        [{"id": row.id, "rank": base + GAP * (i + 1)} for i, row in enumerate(rows)],
    )


async def ranks_at(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    index: int,
    count: int,
    excluding: uuid.UUID | None = None,
) -> list[int]:
    """``count`` ranks that place new entries at ``index`` (clamped by the caller)."""
    for _ in range(2):
        left, right = await ranks_around_index(session, playlist_id, index, excluding)
        ranks = spaced_ranks(left, right, count)
        if ranks is not None:
            return ranks
        await rebalance(session, playlist_id)
    raise AssertionError("a rebalanced playlist always has room")  # pragma: no cover


async def _rank_beside_anchor(
    session: AsyncSession, playlist_id: uuid.UUID, move: MoveItem
) -> int | None:
    """A rank right before/after the anchor entry, ignoring the moved one; None if no room."""
    anchor_id = move.before_item_id or move.after_item_id
    assert anchor_id is not None
    anchor = await repository.item_in(session, playlist_id, anchor_id)
    if anchor is None:
        field = "before_item_id" if move.before_item_id else "after_item_id"
        raise Unprocessable(
            f"{field} is not an entry of this playlist.",
            errors=[{"field": field, "message": "not an entry of this playlist"}],
        )
    after = move.after_item_id is not None
    other = await neighbour_rank(
        session, playlist_id, anchor.rank, after=after, excluding=move.item_id
    )
    left, right = (anchor.rank, other) if after else (other, anchor.rank)
    ranks = spaced_ranks(left, right, 1)
    return ranks[0] if ranks else None


async def rank_for_move(
    session: AsyncSession, playlist_id: uuid.UUID, move: MoveItem, length: int
) -> int:
    """The new rank of ``move.item_id`` in a playlist of ``length`` entries."""
    if move.position is not None:
        index = min(move.position, length - 1)
        return (await ranks_at(session, playlist_id, index, 1, excluding=move.item_id))[0]
    for _ in range(2):
        rank = await _rank_beside_anchor(session, playlist_id, move)
        if rank is not None:
            return rank
        await rebalance(session, playlist_id)
    raise AssertionError("a rebalanced playlist always has room")  # pragma: no cover

"""Queries over the playlist service's tables (entry ordering lives in :mod:`.ordering`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.services.playlists.models import Playlist, PlaylistCollaborator, PlaylistItem

# --- playlists ------------------------------------------------------------------------------


async def playlist_by_id(session: AsyncSession, playlist_id: uuid.UUID) -> Playlist | None:
    return await session.get(Playlist, playlist_id)


async def lock_playlist(session: AsyncSession, playlist_id: uuid.UUID) -> Playlist | None:
    """Bump the version (taking the playlist's write lock) and return the fresh row."""
    result = await session.execute(
        update(Playlist)
        .where(Playlist.id == playlist_id)
        .values(version=Playlist.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return await session.get(Playlist, playlist_id, populate_existing=True)


def _visible_to_member(user_id: uuid.UUID) -> ColumnElement[bool]:
    collaborating = select(PlaylistCollaborator.playlist_id).where(
        PlaylistCollaborator.user_id == user_id
    )
    return or_(Playlist.owner_id == user_id, Playlist.id.in_(collaborating))


async def playlists_of_member(
    session: AsyncSession, user_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Playlist], int]:
    """Playlists the user owns or collaborates on, most recently changed first."""
    condition = _visible_to_member(user_id)
    total = await session.scalar(select(func.count()).select_from(Playlist).where(condition))
    rows = await session.scalars(
        select(Playlist)
        .where(condition)
        .order_by(Playlist.updated_at.desc(), Playlist.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def public_playlists_of(
    session: AsyncSession, owner_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Playlist], int]:
    condition = (Playlist.owner_id == owner_id) & Playlist.is_public.is_(True)
    total = await session.scalar(select(func.count()).select_from(Playlist).where(condition))
    rows = await session.scalars(
        select(Playlist)
        .where(condition)
        .order_by(Playlist.updated_at.desc(), Playlist.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def owned_playlists(session: AsyncSession, owner_id: uuid.UUID) -> list[Playlist]:
    rows = await session.scalars(
        select(Playlist).where(Playlist.owner_id == owner_id).order_by(Playlist.created_at)
    )
    return list(rows)


async def delete_playlist(session: AsyncSession, playlist_id: uuid.UUID) -> None:
    # Entries and collaborators go with it (ON DELETE CASCADE).
    await session.execute(delete(Playlist).where(Playlist.id == playlist_id))


async def delete_playlists_of(session: AsyncSession, owner_id: uuid.UUID) -> None:
    await session.execute(delete(Playlist).where(Playlist.owner_id == owner_id))


# --- entries --------------------------------------------------------------------------------


async def item_counts(
    session: AsyncSession, playlist_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not playlist_ids:
        return {}
    rows = await session.execute(
        select(PlaylistItem.playlist_id, func.count())
        .where(PlaylistItem.playlist_id.in_(playlist_ids))
        .group_by(PlaylistItem.playlist_id)
    )
    return {playlist_id: int(count) for playlist_id, count in rows}


async def item_count(session: AsyncSession, playlist_id: uuid.UUID) -> int:
    return (await item_counts(session, [playlist_id])).get(playlist_id, 0)


async def items_page(
    session: AsyncSession, playlist_id: uuid.UUID, limit: int, offset: int
) -> list[PlaylistItem]:
    rows = await session.scalars(
        select(PlaylistItem)
        .where(PlaylistItem.playlist_id == playlist_id)
        .order_by(PlaylistItem.rank)
        .limit(limit)
        .offset(offset)
    )
    return list(rows)


async def all_items(session: AsyncSession, playlist_id: uuid.UUID) -> list[PlaylistItem]:
    rows = await session.scalars(
        select(PlaylistItem)
        .where(PlaylistItem.playlist_id == playlist_id)
        .order_by(PlaylistItem.rank)
    )
    return list(rows)


async def item_in(
    session: AsyncSession, playlist_id: uuid.UUID, item_id: uuid.UUID
) -> PlaylistItem | None:
    # populate_existing: a rebalance may have changed the rank of a loaded copy.
    return await session.scalar(
        select(PlaylistItem)
        .where(PlaylistItem.id == item_id, PlaylistItem.playlist_id == playlist_id)
        .execution_options(populate_existing=True)
    )


async def index_of_rank(session: AsyncSession, playlist_id: uuid.UUID, rank: int) -> int:
    """The 0-based position of the entry holding ``rank``."""
    before = await session.scalar(
        select(func.count()).where(
            PlaylistItem.playlist_id == playlist_id, PlaylistItem.rank < rank
        )
    )
    return int(before or 0)


async def add_items(session: AsyncSession, items: Sequence[PlaylistItem]) -> None:
    session.add_all(items)
    await session.flush()


async def set_rank(session: AsyncSession, item_id: uuid.UUID, rank: int) -> None:
    # A statement, not an attribute change: a rebalance may have made the loaded rank stale.
    await session.execute(
        update(PlaylistItem)
        .where(PlaylistItem.id == item_id)
        .values(rank=rank)
        .execution_options(synchronize_session=False)
    )


async def delete_item(session: AsyncSession, item_id: uuid.UUID) -> None:
    await session.execute(delete(PlaylistItem).where(PlaylistItem.id == item_id))


async def delete_all_items(session: AsyncSession, playlist_id: uuid.UUID) -> None:
    await session.execute(delete(PlaylistItem).where(PlaylistItem.playlist_id == playlist_id))


async def items_added_by_elsewhere(session: AsyncSession, user_id: uuid.UUID) -> list[PlaylistItem]:
    """Entries the user added to playlists they do not own."""
    rows = await session.scalars(
        select(PlaylistItem)
        .join(Playlist, Playlist.id == PlaylistItem.playlist_id)
        .where(PlaylistItem.added_by == user_id, Playlist.owner_id != user_id)
        .order_by(PlaylistItem.added_at)
    )
    return list(rows)


async def forget_adder(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(PlaylistItem)
        .where(PlaylistItem.added_by == user_id)
        .values(added_by=None)
        .execution_options(synchronize_session=False)
    )


# --- collaborators --------------------------------------------------------------------------


async def collaborator(
    session: AsyncSession, playlist_id: uuid.UUID, user_id: uuid.UUID
) -> PlaylistCollaborator | None:
    return await session.get(PlaylistCollaborator, (playlist_id, user_id))


async def collaborating_among(
    session: AsyncSession, user_id: uuid.UUID, playlist_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not playlist_ids:
        return set()
    rows = await session.scalars(
        select(PlaylistCollaborator.playlist_id).where(
            PlaylistCollaborator.user_id == user_id,
            PlaylistCollaborator.playlist_id.in_(playlist_ids),
        )
    )
    return set(rows)


async def collaborators_of(
    session: AsyncSession, playlist_id: uuid.UUID
) -> list[PlaylistCollaborator]:
    rows = await session.scalars(
        select(PlaylistCollaborator)
        .where(PlaylistCollaborator.playlist_id == playlist_id)
        .order_by(PlaylistCollaborator.added_at, PlaylistCollaborator.user_id)
    )
    return list(rows)


async def collaborator_count(session: AsyncSession, playlist_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.count()).where(PlaylistCollaborator.playlist_id == playlist_id)
    )
    return int(total or 0)


async def add_collaborator(
    session: AsyncSession, playlist_id: uuid.UUID, user_id: uuid.UUID, at: datetime
) -> PlaylistCollaborator:
    row = PlaylistCollaborator(playlist_id=playlist_id, user_id=user_id, added_at=at)
    session.add(row)
    await session.flush()
    return row


async def remove_collaborator(session: AsyncSession, row: PlaylistCollaborator) -> None:
    await session.delete(row)
    await session.flush()


async def memberships_of(session: AsyncSession, user_id: uuid.UUID) -> list[PlaylistCollaborator]:
    rows = await session.scalars(
        select(PlaylistCollaborator)
        .where(PlaylistCollaborator.user_id == user_id)
        .order_by(PlaylistCollaborator.added_at)
    )
    return list(rows)


async def delete_memberships_of(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        delete(PlaylistCollaborator).where(PlaylistCollaborator.user_id == user_id)
    )

"""The playlist service's domain logic and its public functions.

Other services call these: the recommender creates generated playlists with
``create_playlist(..., kind="generated")`` and refreshes them with
``replace_tracks``; the user service's personal-data registry calls
``export_user_data`` and ``delete_user_data``. Rights are checked in
:mod:`.access`, ordering is explained in :mod:`.ordering`.

Concurrency: every mutation starts by locking the playlist row, which also
bumps ``version``. ``expected_versions`` (the parsed ``If-Match`` header) makes a
mutation conditional: 412 unless the version before it is one of them. Without
it, operations apply in lock order, last writer wins per entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import new_id, utcnow
from audotics.problems import Conflict, Forbidden, NotFound, Unprocessable
from audotics.services.playlists import ordering, repository, views
from audotics.services.playlists.access import (
    NO_SUCH_PLAYLIST,
    entries_editable,
    lock_for_change,
    readable,
)
from audotics.services.playlists.models import Playlist, PlaylistCollaborator, PlaylistItem
from audotics.services.playlists.schemas import (
    MAX_COLLABORATORS,
    MAX_ITEMS_PER_PLAYLIST,
    Access,
    CollaboratorOut,
    ItemMoved,
    ItemOut,
    ItemsAdded,
    MoveItem,
    PlaylistCreate,
    PlaylistKind,
    PlaylistOut,
    PlaylistUpdate,
    as_utc,
)
from audotics.services.users import service as users

# --- playlists ----------------------------------------------------------------------------


async def create_playlist(
    session: AsyncSession,
    owner_id: uuid.UUID,
    data: PlaylistCreate,
    *,
    kind: PlaylistKind = "manual",
    generator: dict[str, Any] | None = None,
) -> PlaylistOut:
    """A new, empty playlist. Generated ones (radio, daily mix) are filled by replace_tracks."""
    now = utcnow()
    playlist = Playlist(
        id=new_id(),
        owner_id=owner_id,
        name=data.name,
        description=data.description,
        is_public=data.is_public,
        kind=kind,
        generator=generator,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(playlist)
    await session.flush()
    return await views.playlist_view(session, playlist, owner_id)


async def get_playlist(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    viewer_id: uuid.UUID | None,
    *,
    limit: int,
    offset: int,
) -> tuple[PlaylistOut, list[ItemOut]]:
    """The playlist and one page of its entries (``item_count`` is their total)."""
    playlist = await readable(session, playlist_id, viewer_id)
    summary = await views.playlist_view(session, playlist, viewer_id)
    return summary, await _items_page(session, playlist, viewer_id, limit, offset)


async def list_items(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    viewer_id: uuid.UUID | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[ItemOut], int]:
    """One page of entries in order, and how many there are."""
    playlist = await readable(session, playlist_id, viewer_id)
    total = await repository.item_count(session, playlist.id)
    return await _items_page(session, playlist, viewer_id, limit, offset), total


async def _items_page(
    session: AsyncSession,
    playlist: Playlist,
    viewer_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[ItemOut]:
    rows = await repository.items_page(session, playlist.id, limit, offset)
    return await views.items_out(session, rows, offset, viewer_id)


async def list_my_playlists(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[PlaylistOut], int]:
    """Playlists the user owns or collaborates on, most recently changed first."""
    rows, total = await repository.playlists_of_member(session, user_id, limit, offset)
    return await views.playlist_views(session, rows, user_id), total


async def list_public_playlists(
    session: AsyncSession,
    username: str,
    viewer_id: uuid.UUID | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[PlaylistOut], int]:
    owner = await users.get_user_by_username(session, username)
    rows, total = await repository.public_playlists_of(session, owner.id, limit, offset)
    return await views.playlist_views(session, rows, viewer_id), total


async def update_playlist(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    data: PlaylistUpdate,
    *,
    expected_versions: Collection[int] | None = None,
) -> PlaylistOut:
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.owner, expected_versions
    )
    for field in data.model_fields_set:
        setattr(playlist, field, getattr(data, field))
    await session.flush()
    return await views.playlist_view(session, playlist, actor_id)


async def delete_playlist(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    *,
    expected_versions: Collection[int] | None = None,
) -> None:
    await lock_for_change(session, playlist_id, actor_id, Access.owner, expected_versions)
    await repository.delete_playlist(session, playlist_id)


# --- entries ------------------------------------------------------------------------------


async def add_items(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    track_ids: Sequence[uuid.UUID],
    *,
    position: int | None = None,
    expected_versions: Collection[int] | None = None,
) -> ItemsAdded:
    """Insert entries at ``position`` (0-based; None or past the end appends), in order."""
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.collaborator, expected_versions
    )
    entries_editable(playlist)
    tracks = await views.visible_tracks(session, track_ids, actor_id)
    count = await repository.item_count(session, playlist.id)
    if count + len(track_ids) > MAX_ITEMS_PER_PLAYLIST:
        raise Conflict(
            f"A playlist holds at most {MAX_ITEMS_PER_PLAYLIST} entries; it has {count}.",
            title="Playlist full",
        )
    index = count if position is None else min(position, count)
    ranks = await ordering.ranks_at(session, playlist.id, index, len(track_ids))
    now = utcnow()
    items = [
        PlaylistItem(
            id=new_id(),
            playlist_id=playlist.id,
            track_id=track_id,
            rank=rank,
            added_by=actor_id,
            added_at=now,
        )
        for track_id, rank in zip(track_ids, ranks, strict=True)
    ]
    await repository.add_items(session, items)
    out = [views.item_out(item, index + i, tracks) for i, item in enumerate(items)]
    return ItemsAdded(items=out, version=playlist.version)


async def remove_item(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    expected_versions: Collection[int] | None = None,
) -> int:
    """Remove one entry; returns the playlist's new version."""
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.collaborator, expected_versions
    )
    entries_editable(playlist)
    if await repository.item_in(session, playlist.id, item_id) is None:
        raise NotFound("No such entry in this playlist.")
    await repository.delete_item(session, item_id)
    return playlist.version


async def move_item(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    move: MoveItem,
    *,
    expected_versions: Collection[int] | None = None,
) -> ItemMoved:
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.collaborator, expected_versions
    )
    entries_editable(playlist)
    item = await repository.item_in(session, playlist.id, move.item_id)
    if item is None:
        raise NotFound("No such entry in this playlist.")
    length = await repository.item_count(session, playlist.id)
    rank = await ordering.rank_for_move(session, playlist.id, move, length)
    await repository.set_rank(session, item.id, rank)
    index = await repository.index_of_rank(session, playlist.id, rank)
    moved = await views.items_out(session, [item], index, actor_id)
    return ItemMoved(item=moved[0], version=playlist.version)


# --- collaborators ------------------------------------------------------------------------


def _collaborator_out(row: PlaylistCollaborator, names: dict[uuid.UUID, str]) -> CollaboratorOut:
    return CollaboratorOut(
        user_id=row.user_id, username=names.get(row.user_id), added_at=row.added_at
    )


async def list_collaborators(
    session: AsyncSession, playlist_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> list[CollaboratorOut]:
    playlist = await readable(session, playlist_id, viewer_id)
    rows = await repository.collaborators_of(session, playlist.id)
    names = await views.usernames(session, [row.user_id for row in rows])
    return [_collaborator_out(row, names) for row in rows]


async def add_collaborator(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    username: str,
    *,
    expected_versions: Collection[int] | None = None,
) -> tuple[CollaboratorOut, bool, int]:
    """Idempotent: returns (collaborator, whether newly added, new playlist version)."""
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.owner, expected_versions
    )
    user = await users.get_user_by_username(session, username)
    if user.id == playlist.owner_id:
        raise Unprocessable("The owner cannot also be a collaborator.")
    row = await repository.collaborator(session, playlist.id, user.id)
    created = row is None
    if row is None:
        if await repository.collaborator_count(session, playlist.id) >= MAX_COLLABORATORS:
            raise Conflict(f"A playlist has at most {MAX_COLLABORATORS} collaborators.")
        row = await repository.add_collaborator(session, playlist.id, user.id, utcnow())
    return _collaborator_out(row, {user.id: user.username}), created, playlist.version


async def remove_collaborator(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    username: str,
    *,
    expected_versions: Collection[int] | None = None,
) -> int:
    """The owner removes anyone; a collaborator may only remove (leave) themselves."""
    playlist = await lock_for_change(
        session, playlist_id, actor_id, Access.collaborator, expected_versions
    )
    user = await users.get_user_by_username(session, username)
    if actor_id not in (playlist.owner_id, user.id):
        raise Forbidden("Only the playlist's owner may remove other collaborators.")
    row = await repository.collaborator(session, playlist.id, user.id)
    if row is None:
        raise NotFound(f"{username!r} is not a collaborator of this playlist.")
    await repository.remove_collaborator(session, row)
    return playlist.version


# --- generated playlists ------------------------------------------------------------------


async def replace_tracks(
    session: AsyncSession, playlist_id: uuid.UUID, track_ids: Sequence[uuid.UUID]
) -> PlaylistOut:
    """Replace every entry (a generated playlist's refresh); tracks must be visible to the owner.

    An internal call (no caller identity): the recommender owns generated playlists.
    """
    playlist = await repository.lock_playlist(session, playlist_id)
    if playlist is None:
        raise NotFound(NO_SUCH_PLAYLIST)
    if len(track_ids) > MAX_ITEMS_PER_PLAYLIST:
        raise Unprocessable(f"A playlist holds at most {MAX_ITEMS_PER_PLAYLIST} entries.")
    if track_ids:
        await views.visible_tracks(session, track_ids, playlist.owner_id)
    await repository.delete_all_items(session, playlist.id)
    now = utcnow()
    ranks = ordering.spaced_ranks(None, None, len(track_ids)) or []
    await repository.add_items(
        session,
        [
            PlaylistItem(
                id=new_id(),
                playlist_id=playlist.id,
                track_id=track_id,
                rank=rank,
                added_by=None,
                added_at=now,
            )
            for track_id, rank in zip(track_ids, ranks, strict=True)
        ],
    )
    return await views.playlist_view(session, playlist, playlist.owner_id)


# --- personal data ------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Everything of the user's kept here, as JSON-ready values."""
    owned = []
    for playlist in await repository.owned_playlists(session, user_id):
        items = await repository.all_items(session, playlist.id)
        owned.append(
            {
                "id": str(playlist.id),
                "name": playlist.name,
                "description": playlist.description,
                "is_public": playlist.is_public,
                "kind": playlist.kind,
                "generator": playlist.generator,
                "created_at": _iso(playlist.created_at),
                "updated_at": _iso(playlist.updated_at),
                "items": [
                    {
                        "id": str(item.id),
                        "track_id": str(item.track_id),
                        "position": position,
                        "added_by": str(item.added_by) if item.added_by else None,
                        "added_at": _iso(item.added_at),
                    }
                    for position, item in enumerate(items)
                ],
            }
        )
    memberships = await repository.memberships_of(session, user_id)
    contributions = await repository.items_added_by_elsewhere(session, user_id)
    return {
        "playlists": owned,
        "collaborations": [
            {"playlist_id": str(row.playlist_id), "added_at": _iso(row.added_at)}
            for row in memberships
        ],
        "contributions": [
            {
                "playlist_id": str(item.playlist_id),
                "item_id": str(item.id),
                "track_id": str(item.track_id),
                "added_at": _iso(item.added_at),
            }
            for item in contributions
        ],
    }


async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the user's playlists and memberships.

    Entries they added to other people's playlists stay (they are part of those
    playlists) but no longer say who added them.
    """
    await repository.delete_playlists_of(session, user_id)
    await repository.delete_memberships_of(session, user_id)
    await repository.forget_adder(session, user_id)

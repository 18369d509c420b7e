"""What other services tell us (owners' names, tracks) and the response shapes built with it."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import NotFound, Unprocessable
from audotics.services.catalog import service as catalog
from audotics.services.catalog.schemas import TrackSummary
from audotics.services.playlists import repository
from audotics.services.playlists.models import Playlist, PlaylistItem
from audotics.services.playlists.schemas import Access, ItemOut, Owner, PlaylistOut
from audotics.services.users import service as users


async def usernames(session: AsyncSession, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    names = {}
    for user_id in set(user_ids):
        try:
            names[user_id] = (await users.get_user(session, user_id)).username
        except NotFound:  # account deleted or deactivated
            continue
    return names


async def playlist_views(
    session: AsyncSession, playlists: Sequence[Playlist], viewer_id: uuid.UUID | None
) -> list[PlaylistOut]:
    ids = [playlist.id for playlist in playlists]
    counts = await repository.item_counts(session, ids)
    names = await usernames(session, {playlist.owner_id for playlist in playlists})
    collaborating = (
        await repository.collaborating_among(session, viewer_id, ids) if viewer_id else set()
    )
    views = []
    for playlist in playlists:
        if playlist.owner_id == viewer_id:
            access = Access.owner
        elif playlist.id in collaborating:
            access = Access.collaborator
        else:
            access = Access.reader
        views.append(
            PlaylistOut(
                id=playlist.id,
                name=playlist.name,
                description=playlist.description,
                is_public=playlist.is_public,
                kind=playlist.kind,
                generator=playlist.generator,
                owner=Owner(id=playlist.owner_id, username=names.get(playlist.owner_id)),
                access=access,
                version=playlist.version,
                item_count=counts.get(playlist.id, 0),
                created_at=playlist.created_at,
                updated_at=playlist.updated_at,
            )
        )
    return views


async def playlist_view(
    session: AsyncSession, playlist: Playlist, viewer_id: uuid.UUID | None
) -> PlaylistOut:
    return (await playlist_views(session, [playlist], viewer_id))[0]


def item_out(item: PlaylistItem, position: int, tracks: dict[uuid.UUID, TrackSummary]) -> ItemOut:
    track = tracks.get(item.track_id)
    return ItemOut(
        id=item.id,
        track_id=item.track_id,
        position=position,
        added_by=item.added_by,
        added_at=item.added_at,
        available=track is not None,
        track=track,
    )


async def items_out(
    session: AsyncSession,
    items: Sequence[PlaylistItem],
    first_position: int,
    viewer_id: uuid.UUID | None,
) -> list[ItemOut]:
    """Entries with their tracks; deleted or hidden tracks become unavailable placeholders."""
    track_ids = list(dict.fromkeys(item.track_id for item in items))
    tracks = await catalog.get_tracks(session, track_ids, viewer_id) if track_ids else {}
    return [item_out(item, first_position + i, tracks) for i, item in enumerate(items)]


async def visible_tracks(
    session: AsyncSession, track_ids: Sequence[uuid.UUID], viewer_id: uuid.UUID
) -> dict[uuid.UUID, TrackSummary]:
    """The tracks, all of which must exist and be visible to ``viewer_id``; else 422."""
    unique = list(dict.fromkeys(track_ids))
    found = await catalog.get_tracks(session, unique, viewer_id)
    missing = [str(track_id) for track_id in unique if track_id not in found]
    if missing:
        raise Unprocessable(
            f"{len(missing)} track id(s) do not name a track you can see; nothing was added.",
            title="Unknown tracks",
            invalid_track_ids=missing,
            errors=[
                {"field": "track_ids", "message": "unknown track", "track_id": track_id}
                for track_id in missing
            ],
        )
    return found

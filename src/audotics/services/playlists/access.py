"""Who may do what with a playlist, and the lock every mutation starts with.

The owner and collaborators see a playlist; anyone sees a public one. To
everyone else it does not exist: reads *and* writes answer 404 with the same
words, so a private playlist's existence never leaks. Readers of a public
playlist get 403 on changes; collaborators may add, remove and move entries,
only the owner may rename, share, publish or delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Conflict, Forbidden, NotFound, PreconditionFailed
from audotics.services.playlists import repository
from audotics.services.playlists.models import Playlist
from audotics.services.playlists.schemas import Access

NO_SUCH_PLAYLIST = "No playlist with this id."


def etag(version: int) -> str:
    return f'"{version}"'


async def access_of(
    session: AsyncSession, playlist: Playlist, viewer_id: uuid.UUID | None
) -> Access | None:
    if viewer_id is not None:
        if playlist.owner_id == viewer_id:
            return Access.owner
        if await repository.collaborator(session, playlist.id, viewer_id) is not None:
            return Access.collaborator
    return Access.reader if playlist.is_public else None


async def readable(
    session: AsyncSession, playlist_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> Playlist:
    playlist = await repository.playlist_by_id(session, playlist_id)
    access = await access_of(session, playlist, viewer_id) if playlist else None
    if playlist is None or access is None:
        raise NotFound(NO_SUCH_PLAYLIST)
    return playlist


async def lock_for_change(
    session: AsyncSession,
    playlist_id: uuid.UUID,
    actor_id: uuid.UUID,
    needs: Access,
    expected_versions: Collection[int] | None,
) -> Playlist:
    """Lock the playlist (bumping its version), then check rights and If-Match, in that order.

    Rights come first so a stranger learns nothing, not even a version. A
    refusal raises, and the request's rollback undoes the bump.
    """
    playlist = await repository.lock_playlist(session, playlist_id)
    access = await access_of(session, playlist, actor_id) if playlist else None
    if playlist is None or access is None:
        raise NotFound(NO_SUCH_PLAYLIST)
    if needs is Access.owner and access is not Access.owner:
        raise Forbidden("Only the playlist's owner may do this.")
    if access is Access.reader:
        raise Forbidden("Only the owner and collaborators may change this playlist.")
    previous = playlist.version - 1
    if expected_versions is not None and previous not in expected_versions:
        raise PreconditionFailed(
            f"The playlist changed: it is at version {previous}. Reload and retry.",
            headers={"ETag": etag(previous)},
            current_version=previous,
        )
    return playlist


def entries_editable(playlist: Playlist) -> None:
    if playlist.kind == "generated":
        raise Conflict(
            "Entries of a generated playlist are chosen by the recommender and replaced "
            "on each refresh; copy them into a playlist of your own to edit them.",
            title="Generated playlist",
        )

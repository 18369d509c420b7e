"""HTTP routes of the playlist service.

Every mutation answers with ``ETag: "<version>"`` and accepts ``If-Match`` with
such a tag (or a bare version number): the change is then applied only if the
playlist is still at that version, else 412 with the current ETag. Without
If-Match, changes apply in arrival order (last writer wins per entry).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response, status

from audotics.gateway.auth import CurrentUser, OptionalUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from audotics.gateway.pagination import Page, PageParams, page_params
from audotics.services.playlists import service
from audotics.services.playlists.access import etag
from audotics.services.playlists.schemas import (
    AddItems,
    CollaboratorOut,
    ItemMoved,
    ItemOut,
    ItemsAdded,
    MoveItem,
    PlaylistCreate,
    PlaylistOut,
    PlaylistUpdate,
)

router = APIRouter(tags=["playlists"], responses=PROBLEM_RESPONSES)

_PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {
        "description": "If-Match did not name the current version",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


class PlaylistDetail(PlaylistOut):
    items: Page[ItemOut]


Pagination = Annotated[PageParams, Depends(page_params)]
PlaylistId = Annotated[uuid.UUID, Path(description="The playlist's id")]
Username = Annotated[str, Path(min_length=1, max_length=64)]


def expected_versions(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Apply only at this version: "3" (the ETag) or 3; * matches any',
        ),
    ] = None,
) -> frozenset[int] | None:
    """The versions If-Match accepts; None means unconditional."""
    if if_match is None:
        return None
    versions = set()
    for tag in (part.strip() for part in if_match.split(",")):
        if tag == "*":
            return None
        # Weak tags never match (If-Match compares strongly, RFC 9110 13.1.1).
        value = tag.removeprefix('"').removesuffix('"')
        if not tag.startswith("W/") and value.isdigit() and len(value) <= 18:
            versions.add(int(value))
    return frozenset(versions)  # empty: nothing can match, so 412


IfMatch = Annotated[frozenset[int] | None, Depends(expected_versions)]


@router.post(
    "/playlists",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaylistOut,
    summary="Create a playlist",
)
async def create_playlist(
    body: PlaylistCreate, identity: CurrentUser, session: SessionDep, response: Response
) -> PlaylistOut:
    playlist = await service.create_playlist(session, identity.user_id, body)
    response.headers["ETag"] = etag(playlist.version)
    response.headers["Location"] = f"/api/v1/playlists/{playlist.id}"
    return playlist


@router.get(
    "/playlists",
    response_model=Page[PlaylistOut],
    summary="My playlists: owned and collaborating, most recently changed first",
)
async def my_playlists(
    identity: CurrentUser, session: SessionDep, page: Pagination
) -> Page[PlaylistOut]:
    found = await service.list_my_playlists(
        session, identity.user_id, limit=page.limit, offset=page.offset
    )
    return Page[PlaylistOut].build(*found, page)


@router.get(
    "/users/{username}/playlists",
    response_model=Page[PlaylistOut],
    summary="A user's public playlists",
)
async def public_playlists(
    username: Username, identity: OptionalUser, session: SessionDep, page: Pagination
) -> Page[PlaylistOut]:
    viewer = identity.user_id if identity else None
    found = await service.list_public_playlists(
        session, username, viewer, limit=page.limit, offset=page.offset
    )
    return Page[PlaylistOut].build(*found, page)


@router.get(
    "/playlists/{playlist_id}",
    response_model=PlaylistDetail,
    summary="A playlist with a page of its entries",
)
async def get_playlist(
    playlist_id: PlaylistId,
    identity: OptionalUser,
    session: SessionDep,
    page: Pagination,
    response: Response,
) -> PlaylistDetail:
    """``limit``/``offset`` page through the entries. Tracks that were deleted or that
    you may not see are listed with ``available: false`` and no ``track``."""
    viewer = identity.user_id if identity else None
    playlist, items = await service.get_playlist(
        session, playlist_id, viewer, limit=page.limit, offset=page.offset
    )
    response.headers["ETag"] = etag(playlist.version)
    page_of_items = Page[ItemOut].build(items, playlist.item_count, page)
    return PlaylistDetail(**playlist.model_dump(), items=page_of_items)


@router.get(
    "/playlists/{playlist_id}/items",
    response_model=Page[ItemOut],
    summary="A page of a playlist's entries, in order",
)
async def list_items(
    playlist_id: PlaylistId, identity: OptionalUser, session: SessionDep, page: Pagination
) -> Page[ItemOut]:
    viewer = identity.user_id if identity else None
    found = await service.list_items(
        session, playlist_id, viewer, limit=page.limit, offset=page.offset
    )
    return Page[ItemOut].build(*found, page)


@router.patch(
    "/playlists/{playlist_id}",
    response_model=PlaylistOut,
    responses=_PRECONDITION,
    summary="Rename, describe, publish or unpublish (owner only)",
)
async def update_playlist(
    playlist_id: PlaylistId,
    body: PlaylistUpdate,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> PlaylistOut:
    playlist = await service.update_playlist(
        session, playlist_id, identity.user_id, body, expected_versions=if_match
    )
    response.headers["ETag"] = etag(playlist.version)
    return playlist


@router.delete(
    "/playlists/{playlist_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_PRECONDITION,
    summary="Delete a playlist (owner only)",
)
async def delete_playlist(
    playlist_id: PlaylistId, identity: CurrentUser, session: SessionDep, if_match: IfMatch
) -> Response:
    await service.delete_playlist(
        session, playlist_id, identity.user_id, expected_versions=if_match
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/playlists/{playlist_id}/items",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemsAdded,
    responses=_PRECONDITION,
    summary="Add tracks, at the end or at a position",
)
async def add_items(
    playlist_id: PlaylistId,
    body: AddItems,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> ItemsAdded:
    """All or nothing: if any track id is unknown or hidden from you, 422 lists them all
    (``invalid_track_ids``) and nothing is added."""
    added = await service.add_items(
        session,
        playlist_id,
        identity.user_id,
        body.track_ids,
        position=body.position,
        expected_versions=if_match,
    )
    response.headers["ETag"] = etag(added.version)
    return added


@router.delete(
    "/playlists/{playlist_id}/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_PRECONDITION,
    summary="Remove one entry",
)
async def remove_item(
    playlist_id: PlaylistId,
    item_id: uuid.UUID,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
) -> Response:
    version = await service.remove_item(
        session, playlist_id, identity.user_id, item_id, expected_versions=if_match
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"ETag": etag(version)})


@router.post(
    "/playlists/{playlist_id}/items/move",
    response_model=ItemMoved,
    responses=_PRECONDITION,
    summary="Move one entry before or after another, or to a position",
)
async def move_item(
    playlist_id: PlaylistId,
    body: MoveItem,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> ItemMoved:
    moved = await service.move_item(
        session, playlist_id, identity.user_id, body, expected_versions=if_match
    )
    response.headers["ETag"] = etag(moved.version)
    return moved


@router.get(
    "/playlists/{playlist_id}/collaborators",
    response_model=list[CollaboratorOut],
    summary="Who may edit the entries besides the owner",
)
async def list_collaborators(
    playlist_id: PlaylistId, identity: OptionalUser, session: SessionDep
) -> list[CollaboratorOut]:
    viewer = identity.user_id if identity else None
    return await service.list_collaborators(session, playlist_id, viewer)


@router.put(
    "/playlists/{playlist_id}/collaborators/{username}",
    response_model=CollaboratorOut,
    responses={201: {"description": "Added"}, **_PRECONDITION},
    summary="Let a user edit the entries (owner only); 200 if already a collaborator",
)
async def add_collaborator(
    playlist_id: PlaylistId,
    username: Username,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> CollaboratorOut:
    collaborator, created, version = await service.add_collaborator(
        session, playlist_id, identity.user_id, username, expected_versions=if_match
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = etag(version)
    return collaborator


@router.delete(
    "/playlists/{playlist_id}/collaborators/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_PRECONDITION,
    summary="Stop a user from editing (owner; or a collaborator leaving)",
)
async def remove_collaborator(
    playlist_id: PlaylistId,
    username: Username,
    identity: CurrentUser,
    session: SessionDep,
    if_match: IfMatch,
) -> Response:
    version = await service.remove_collaborator(
        session, playlist_id, identity.user_id, username, expected_versions=if_match
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"ETag": etag(version)})

"""HTTP routes for your social graph: whom you follow, who follows you.

Following someone lets their listening reach your recommendations ("popular with
people you follow"); it is always about the caller (``/me/...``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.analytics import service
from audotics.services.analytics.schemas import MAX_FOLLOWING, FollowedUser, FollowList

router = APIRouter(tags=["me"], responses=PROBLEM_RESPONSES)

Username = Annotated[str, Path(min_length=1, max_length=64, description="Their username")]


@router.get("/me/following", response_model=FollowList, summary="Whom you follow")
async def my_following(identity: CurrentUser, session: SessionDep) -> FollowList:
    return await service.following_list(session, identity.user_id)


@router.get("/me/followers", response_model=FollowList, summary="Who follows you")
async def my_followers(identity: CurrentUser, session: SessionDep) -> FollowList:
    return await service.followers_list(session, identity.user_id)


@router.put(
    "/me/following/{username}",
    response_model=FollowedUser,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "You already follow them", "model": FollowedUser}},
    summary=f"Follow a listener (at most {MAX_FOLLOWING})",
)
async def follow(
    username: Username, identity: CurrentUser, session: SessionDep, response: Response
) -> FollowedUser:
    """Idempotent: 201 when the follow is new, 200 when it existed. 404 for nobody by that
    name, 422 for yourself, 409 when you already follow the most allowed."""
    followed, created = await service.follow(session, identity.user_id, username)
    if not created:
        response.status_code = status.HTTP_200_OK
    return followed


@router.delete(
    "/me/following/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop following a listener",
)
async def unfollow(username: Username, identity: CurrentUser, session: SessionDep) -> Response:
    """Idempotent: 204 whether or not you followed them; 404 for nobody by that name."""
    await service.unfollow(session, identity.user_id, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

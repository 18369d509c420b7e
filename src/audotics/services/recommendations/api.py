"""HTTP routes of the recommendations service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep, get_infra
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.recommendations import generate_api, taste_api
from audotics.services.recommendations.schemas import Recommendations
from audotics.services.recommendations.service import MAX_DEPTH, recommend_for_user
from audotics.services.recommendations.serving_api import (  # noqa: F401 (re-exported)
    ServingStatesDep,
    get_serving_states,
)

router = APIRouter(tags=["recommendations"], responses=PROBLEM_RESPONSES)
router.include_router(taste_api.router)  # GET /me/taste-profile
router.include_router(generate_api.router)  # POST /playlists/generate


@router.get(
    "/me/recommendations",
    response_model=Recommendations,
    summary="Personal recommendations, explained",
)
async def my_recommendations(
    request: Request,
    identity: CurrentUser,
    session: SessionDep,
    states: ServingStatesDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0, lt=MAX_DEPTH, description="Items to skip")] = 0,
) -> Recommendations:
    """Tracks for you from collaborative filtering (folded in from your listens so far),
    co-listening, sound similarity and popularity, blended by how much you have listened,
    diversified (at most two per artist), each with the reason it is here. Tracks you
    played or turned down are never included; a new listen shows in the next response."""
    return await recommend_for_user(
        session, states, get_infra(request).cache, identity.user_id, limit=limit, offset=offset
    )

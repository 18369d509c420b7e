"""HTTP routes of the recommendation service (``/me/...``: only ever the caller's data)."""

from __future__ import annotations

from fastapi import APIRouter

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import CacheDep, SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.recommendations import taste as service
from audotics.services.recommendations.serving_api import ServingStatesDep
from audotics.services.recommendations.taste_schemas import TasteProfileOut

router = APIRouter(tags=["recommendations"], responses=PROBLEM_RESPONSES)


@router.get(
    "/me/taste-profile",
    response_model=TasteProfileOut,
    summary="Your taste profile: audio-feature centroid, top artists/genres, listening times",
)
async def get_taste_profile(
    identity: CurrentUser, session: SessionDep, cache: CacheDep, states: ServingStatesDep
) -> TasteProfileOut:
    """Computed from your latest listens (likes and completions weigh more, skipped tracks
    are left out); recomputed as soon as you record a new listen. With no history yet,
    every count is zero and every list empty. `collaborative` is your position in the
    served CF model's factor space, folded in from your listens (no retraining needed);
    null before a model is trained."""
    return await service.taste_profile(session, cache, identity.user_id, states)

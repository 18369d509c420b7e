"""HTTP route for a track's content-analysis results."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.catalog import service
from audotics.services.catalog.analysis_schemas import TrackFeaturesOut
from audotics.services.catalog.shared_api import NOT_MODIFIED, json_with_etag

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

TrackId = Annotated[uuid.UUID, Path(description="Track id")]

_NOT_ANALYSED: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "No features yet: no audio, analysis pending, or analysis failed "
        "(`analysis_status`, and `analysis_error` with the reason)"
    },
    **NOT_MODIFIED,
}


@router.get(
    "/tracks/{track_id}/features",
    response_model=TrackFeaturesOut,
    summary="Audio features of a track (tempo, key, loudness, ...)",
    responses=_NOT_ANALYSED,
)
async def get_features(
    request: Request,
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    embedding: Annotated[bool, Query(description="Include the sound embedding vector")] = False,
) -> Response:
    """What content analysis measured on the track's audio, with the analysed window and
    the analysis version. 404 for tracks you may not see; 409 until analysis is done."""
    features = await service.get_track_features(
        session, identity.user_id, track_id, include_embedding=embedding
    )
    return json_with_etag(request, features)

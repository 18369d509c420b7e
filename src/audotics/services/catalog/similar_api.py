"""HTTP route for similar tracks (by sound now; the recommendation issue adds hybrid)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep, get_infra
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.catalog.analysis_schemas import SimilarBy, SimilarTracks
from audotics.services.catalog.similarity import SoundIndex

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

TrackId = Annotated[uuid.UUID, Path(description="Track id")]


def get_sound_index(request: Request) -> SoundIndex:
    """One index per application, built on first use (see services/catalog/similarity.py)."""
    index: SoundIndex | None = getattr(request.app.state, "sound_index", None)
    if index is None:
        index = SoundIndex(get_infra(request).objects)
        request.app.state.sound_index = index
    return index


SoundIndexDep = Annotated[SoundIndex, Depends(get_sound_index)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The track has no sound analysis yet (or it failed)"},
}


@router.get(
    "/tracks/{track_id}/similar",
    response_model=SimilarTracks,
    summary="Tracks similar to this one",
    responses=_RESPONSES,
)
async def similar_tracks(
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    sound_index: SoundIndexDep,
    by: Annotated[SimilarBy, Query(description="What similarity means")] = SimilarBy.sound,
    limit: Annotated[int, Query(ge=1, le=100, description="How many tracks")] = 10,
) -> SimilarTracks:
    """`by=sound`: nearest neighbours of the track's sound embedding, best first, among
    the tracks you may see (the public catalog and your own), never the track itself."""
    return await sound_index.similar(session, identity.user_id, track_id, limit)

"""HTTP route for similar tracks: by sound (the catalog's index), by listening or both.

``by=sound`` is answered here from the catalog's sound index. ``by=cf`` and
``by=hybrid`` are the recommendations service's (its ``service.py``), which this
route hands the sound index as a lookup, so the blend also sees the newest analyses
and the caller's own private tracks; neither service reads the other's tables.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep, get_infra
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.catalog import service as catalog
from audotics.services.catalog.analysis_schemas import (
    SimilarBy,
    SimilarExplanation,
    SimilarReason,
    SimilarTracks,
)
from audotics.services.catalog.similarity import SoundIndex
from audotics.services.recommendations import service as recommendations

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

TrackId = Annotated[uuid.UUID, Path(description="Track id")]
MAX_OFFSET = 100


# async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
async def get_sound_index(request: Request) -> SoundIndex:
    """One index per application, built on first use (see services/catalog/similarity.py)."""
    index: SoundIndex | None = getattr(request.app.state, "sound_index", None)
    if index is None:
        index = SoundIndex(get_infra(request).objects)
        request.app.state.sound_index = index
    return index


async def get_serving_states(request: Request) -> recommendations.ServingStateCache:
    return recommendations.serving_states(request.app.state)


SoundIndexDep = Annotated[SoundIndex, Depends(get_sound_index)]
ServingStatesDep = Annotated[recommendations.ServingStateCache, Depends(get_serving_states)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Nothing to base it on: by=sound, the track has no sound analysis yet "
        "(or it failed); by=cf, nobody has played it and the model does not know it; "
        "by=hybrid, neither"
    },
}


@router.get(
    "/tracks/{track_id}/similar",
    response_model=SimilarTracks,
    summary="Tracks similar to this one, by sound, by listening or both",
    responses=_RESPONSES,
)
async def similar_tracks(
    request: Request,
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    sound_index: SoundIndexDep,
    states: ServingStatesDep,
    by: Annotated[SimilarBy, Query(description="What similarity means")] = SimilarBy.sound,
    limit: Annotated[int, Query(ge=1, le=100, description="How many tracks")] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Tracks to skip")] = 0,
) -> SimilarTracks:
    """Among the tracks you may see (the public catalog and your own), never the track
    itself, best first, each with the reason it is here:

    * `by=sound` (the default): nearest neighbours of the track's sound embedding;
    * `by=cf`: nearest neighbours of its collaborative-filtering item factors ("listeners
      who like X like this too"); a track the model does not know yet falls back to
      co-listening ("listeners of X also play this");
    * `by=hybrid`: sound, CF and co-listening blended; the listening sides weigh more the
      more listeners the track has, so a track nobody has played is placed by its sound.

    `cf` and `hybrid` leave out tracks you turned down (skipped more than played)."""
    viewer = identity.user_id
    if by is not SimilarBy.sound:

        async def sound(n: int) -> list[tuple[uuid.UUID, float]]:
            found = await sound_index.similar(session, viewer, track_id, n)
            return [(item.track.id, item.score) for item in found.items]

        return await recommendations.similar_tracks(
            session,
            states,
            get_infra(request).cache,
            viewer,
            track_id,
            by,
            limit=limit,
            offset=offset,
            sound=sound,
        )
    found = await sound_index.similar(session, viewer, track_id, offset + limit + 1)
    seed = (await catalog.get_tracks(session, [track_id], viewer)).get(track_id)
    text = f"Similar sound to {seed.title} by {seed.artist.name}" if seed else "Similar sound"
    items = found.items[offset : offset + limit]
    for item in items:
        item.explanation = SimilarExplanation(kind=SimilarReason.sound, text=text)
    return SimilarTracks(
        seed_id=found.seed_id,
        by=SimilarBy.sound,
        items=items,
        offset=offset,
        limit=limit,
        next_offset=offset + limit if len(found.items) > offset + limit else None,
    )

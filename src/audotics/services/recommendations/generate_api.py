"""HTTP route for generated playlists (radio, daily mix) of the recommendation service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep, get_infra
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.recommendations import service
from audotics.services.recommendations.generate_schemas import GeneratedPlaylist, GenerateRequest
from audotics.services.recommendations.serving_api import ServingStatesDep

router = APIRouter(tags=["playlists"], responses=PROBLEM_RESPONSES)


def get_snapshots(request: Request) -> service.SnapshotCache:
    return service.item_snapshots(request.app.state)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "Generated and saved as a playlist of yours", "model": GeneratedPlaylist},
    404: {"description": "The seed track or artist does not exist or is not visible to you"},
    409: {
        "description": "Nothing to base it on (a seed with neither sound analysis nor "
        "listens, an artist without public tracks), or save=true and no track matched"
    },
}


@router.post(
    "/playlists/generate",
    response_model=GeneratedPlaylist,
    summary="Generate a radio or your daily mix, optionally saved as a playlist",
    responses=_RESPONSES,
)
async def generate_playlist(
    body: GenerateRequest,
    request: Request,
    response: Response,
    identity: CurrentUser,
    session: SessionDep,
    states: ServingStatesDep,
    snapshots: Annotated[service.SnapshotCache, Depends(get_snapshots)],
) -> GeneratedPlaylist:
    """`kind=radio`: tracks around `seed_track_id` (similar sound, CF and co-listening),
    `seed_artist_id` (their tracks and what is near their most played ones) and/or within
    a `mood` (inclusive `min`/`max` ranges on analysed audio features, hard filters:
    unanalysed tracks never match), personalised by your history, diversified (at most
    `max(2, length / 5)` per artist). `kind=daily_mix`: about a third tracks you love, the
    rest discoveries from your recommendations, the same all UTC day until you listen
    again. Tracks you turned down are left out; each track says why it is there.

    With `save=true` the list is also saved as a playlist you own (`is_public` false by
    default) and the answer is 201 with it in `playlist`."""
    result = await service.generate_playlist(
        session, states, snapshots, get_infra(request).cache, identity.user_id, body
    )
    if result.playlist is not None:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/api/v1/playlists/{result.playlist.id}"
    return result

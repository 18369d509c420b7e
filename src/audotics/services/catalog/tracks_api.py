"""HTTP routes for tracks: the public catalog and each listener's private library.

Anyone signed in reads public tracks and their own private ones; someone else's
private track answers 404 everywhere. Curators change public tracks; owners
change their private ones.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import ObjectsDep, SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.gateway.pagination import Page
from audotics.services.catalog import service
from audotics.services.catalog.schemas import TrackCreate, TrackOut, TrackScope, TrackUpdate
from audotics.services.catalog.shared_api import (
    NOT_MODIFIED,
    GenreFilter,
    Pagination,
    json_with_etag,
    page_of,
    viewer_of,
)

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

TrackId = Annotated[uuid.UUID, Path(description="Track id")]


@router.get("/tracks", response_model=Page[TrackOut], summary="List tracks", responses=NOT_MODIFIED)
async def list_tracks(
    request: Request,
    identity: CurrentUser,
    session: SessionDep,
    page: Pagination,
    scope: Annotated[
        TrackScope, Query(description="all (public + mine), public, or mine (private)")
    ] = TrackScope.all,
    artist_id: Annotated[uuid.UUID | None, Query(description="Only this artist's")] = None,
    album_id: Annotated[
        uuid.UUID | None, Query(description="Only this album's, in track order")
    ] = None,
    genre: GenreFilter = None,
) -> Response:
    tracks = await service.list_tracks(
        session,
        identity.user_id,
        page.limit,
        page.offset,
        scope=scope,
        artist_id=artist_id,
        album_id=album_id,
        genre=genre,
    )
    return json_with_etag(request, page_of(tracks, page))


@router.post(
    "/tracks",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackOut,
    summary="Add a track (public: curators; private: anyone)",
)
async def create_track(
    request: Request,
    body: TrackCreate,
    identity: CurrentUser,
    session: SessionDep,
    response: Response,
) -> TrackOut:
    """Give the artist by `artist_id` or by `artist` name, and optionally the album by
    `album_id` or `album` title; names are matched normalised and created when new.

    Listeners' tracks are private to them; curators' are public unless
    `visibility` is `private`. Upload the audio afterwards with
    `PUT /tracks/{id}/audio`.
    """
    track = await service.create_track(session, viewer_of(identity), body)
    response.headers["Location"] = str(request.url_for("get_track", track_id=str(track.id)))
    return track


@router.get(
    "/tracks/{track_id}", response_model=TrackOut, summary="One track", responses=NOT_MODIFIED
)
async def get_track(
    request: Request, track_id: TrackId, identity: CurrentUser, session: SessionDep
) -> Response:
    return json_with_etag(request, await service.get_track(session, identity.user_id, track_id))


@router.patch("/tracks/{track_id}", response_model=TrackOut, summary="Change a track")
async def update_track(
    track_id: TrackId, body: TrackUpdate, identity: CurrentUser, session: SessionDep
) -> TrackOut:
    """Fields left out stay; `album_id: null` takes the track off its album."""
    return await service.update_track(session, viewer_of(identity), track_id, body)


@router.delete(
    "/tracks/{track_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a track and its audio",
)
async def delete_track(
    track_id: TrackId, identity: CurrentUser, session: SessionDep, objects: ObjectsDep
) -> Response:
    await service.delete_track(session, objects, viewer_of(identity), track_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

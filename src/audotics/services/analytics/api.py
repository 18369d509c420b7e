"""HTTP routes of the analytics service: submitting listens, reading your history and stats.

Everything is scoped to the caller (``/me/...``): there is no route that takes
another user's id, so nobody can read someone else's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import InfraDep, SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.analytics import follows_api, service
from audotics.services.analytics.schemas import (
    MAX_LISTENS_PER_REQUEST,
    MAX_TOP,
    ListenEvent,
    ListenIn,
    ListeningStats,
    ListenPage,
    ListensRecorded,
    ListenSubmission,
)

router = APIRouter(tags=["listens"], responses=PROBLEM_RESPONSES)

MAX_PAGE = 200


@router.post(
    "/listens",
    response_model=ListensRecorded,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Every listen was already stored", "model": ListensRecorded}},
    summary=f"Record one listen or a batch of up to {MAX_LISTENS_PER_REQUEST}",
)
async def submit_listens(
    body: Annotated[ListenSubmission, Body()],
    identity: CurrentUser,
    session: SessionDep,
    infra: InfraDep,
    response: Response,
) -> ListensRecorded:
    """Send one listen, or ``{"listens": [...]}``. Idempotent: a listen is identified by
    its ``client_key``, or else by (track_id, event, occurred_at), and sending it again
    changes nothing. 201 when something was new, 200 when everything was a duplicate.
    All or nothing: a track that does not exist or that you may not see makes the whole
    request a 422 naming the ``invalid_indexes``."""
    listens = [body] if isinstance(body, ListenIn) else body.listens
    recorded = await service.record_listens(session, identity.user_id, listens, events=infra.events)
    if not recorded.new:
        response.status_code = status.HTTP_200_OK
    return recorded


@router.get(
    "/me/listens",
    response_model=ListenPage,
    tags=["me"],
    summary="Your listening history, newest first",
)
async def my_listens(
    identity: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Listens per page")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    event: Annotated[
        list[ListenEvent] | None, Query(description="Only these events (repeatable)")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this moment (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Before this moment")] = None,
) -> ListenPage:
    return await service.list_listens(
        session,
        identity.user_id,
        limit=limit,
        cursor=cursor,
        events=event,
        since=since,
        until=until,
    )


@router.get(
    "/me/stats",
    response_model=ListeningStats,
    tags=["me"],
    summary="Your listening statistics",
)
async def my_stats(
    identity: CurrentUser,
    session: SessionDep,
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="Top tracks and artists")] = 10,
) -> ListeningStats:
    return await service.listening_stats(session, identity.user_id, top=top)


router.include_router(follows_api.router)

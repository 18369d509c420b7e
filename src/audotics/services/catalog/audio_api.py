"""HTTP routes for a track's audio: upload, replace, remove, and range streaming.

Upload either as the raw body (``PUT``, ``Content-Type: audio/*``) or as a browser
form (``POST`` multipart/form-data, field ``file``). Play with a bearer token, or
from an ``<audio>`` element through a short-lived signed URL from ``/stream-url``.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.gateway.auth import AuthConfigDep, CurrentUser, OptionalUser
from audotics.gateway.deps import InfraDep, ObjectsDep, SessionDep, SettingsDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.problems import NotFound, Unauthorized
from audotics.services.catalog import service, signing
from audotics.services.catalog.audio import ACCEPTED_DESCRIPTION
from audotics.services.catalog.http import (
    http_date,
    if_range_allows,
    is_not_modified,
    parse_range,
)
from audotics.services.catalog.schemas import StreamUrl, TrackOut
from audotics.services.catalog.shared_api import viewer_of
from audotics.services.catalog.uploads_api import receive_multipart, receive_raw
from audotics.services.users.schemas import Identity

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

TrackId = Annotated[uuid.UUID, Path(description="Track id")]
STREAM_CACHE_CONTROL = "private, no-cache"

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Larger than the upload limit; nothing was stored"},
    415: {"description": f"Not audio, or not {ACCEPTED_DESCRIPTION}"},
    422: {"description": "Empty, truncated or corrupt audio"},
}
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "audio/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def _authorise_upload(session: AsyncSession, identity: Identity, track_id: uuid.UUID) -> None:
    # Check before reading a possibly large body, then end the transaction so no
    # database connection is held while a slow client uploads.
    await service.get_editable_track(session, viewer_of(identity), track_id)
    await session.commit()


@router.put(
    "/tracks/{track_id}/audio",
    response_model=TrackOut,
    summary="Upload or replace the audio (raw body)",
    responses=_UPLOAD_ERRORS,
    openapi_extra=_RAW_BODY,
)
async def put_audio(
    request: Request,
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    objects: ObjectsDep,
    settings: SettingsDep,
    infra: InfraDep,
) -> TrackOut:
    """The body is the audio file (WAV, FLAC, Ogg Vorbis/Opus or MP3), checked by content.

    Replaces any earlier audio, sets the duration from the decoded audio and
    queues its analysis (`GET /tracks/{id}/features` once `analysis_status` is done).
    """
    await _authorise_upload(session, identity, track_id)
    async with receive_raw(request, settings.max_upload_bytes) as upload:
        return await service.store_track_audio(
            session, objects, viewer_of(identity), track_id, upload, jobs=infra.queue
        )


@router.post(
    "/tracks/{track_id}/audio",
    response_model=TrackOut,
    summary="Upload or replace the audio (multipart form, field `file`)",
    responses=_UPLOAD_ERRORS,
    openapi_extra=_FORM_BODY,
)
async def post_audio(
    request: Request,
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    objects: ObjectsDep,
    settings: SettingsDep,
    infra: InfraDep,
) -> TrackOut:
    """Like `PUT`, for browser forms: the audio is the `file` field."""
    await _authorise_upload(session, identity, track_id)
    async with receive_multipart(request, settings.max_upload_bytes) as upload:
        return await service.store_track_audio(
            session, objects, viewer_of(identity), track_id, upload, jobs=infra.queue
        )


@router.delete("/tracks/{track_id}/audio", response_model=TrackOut, summary="Remove the audio")
async def delete_audio(
    track_id: TrackId, identity: CurrentUser, session: SessionDep, objects: ObjectsDep
) -> TrackOut:
    return await service.delete_track_audio(session, objects, viewer_of(identity), track_id)


@router.get(
    "/tracks/{track_id}/stream-url",
    response_model=StreamUrl,
    summary="A short-lived URL that plays without an Authorization header",
)
async def stream_url(
    request: Request,
    track_id: TrackId,
    identity: CurrentUser,
    session: SessionDep,
    config: AuthConfigDep,
    settings: SettingsDep,
) -> StreamUrl:
    """For `<audio src>`: the URL is signed for this track and this user and expires
    after 30 minutes; fetch a new one to resume playback later."""
    track = await service.get_track(session, identity.user_id, track_id)
    if track.audio is None:
        raise NotFound("This track has no audio yet.", title="No audio")
    expires = int(time.time()) + signing.STREAM_URL_TTL_S
    query = urlencode(
        {
            "uid": str(identity.user_id),
            "exp": expires,
            "sig": signing.sign(config.secret, track_id, identity.user_id, expires),
        }
    )
    path = request.url_for("stream_track", track_id=str(track_id))
    base = f"{settings.public_url.rstrip('/')}{path.path}" if settings.public_url else str(path)
    return StreamUrl(url=f"{base}?{query}", expires_at=datetime.fromtimestamp(expires, UTC))


def _stream_viewer(
    identity: OptionalUser,
    config: AuthConfigDep,
    track_id: TrackId,
    uid: Annotated[uuid.UUID | None, Query(description="Signed URL: user")] = None,
    exp: Annotated[int | None, Query(ge=0, le=2**40, description="Signed URL: expiry")] = None,
    sig: Annotated[str | None, Query(max_length=128, description="Signed URL: signature")] = None,
) -> uuid.UUID:
    if identity is not None:
        return identity.user_id
    if uid is None or exp is None or sig is None:
        raise Unauthorized(
            "Send a bearer token, or use the signed URL from GET /tracks/{id}/stream-url."
        )
    if not signing.verify(config.secret, track_id, uid, exp, sig, time.time()):
        raise Unauthorized(
            "This stream link is invalid or has expired; fetch a new one.",
            title="Invalid stream link",
        )
    return uid


StreamViewer = Annotated[uuid.UUID, Depends(_stream_viewer)]

_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "The requested byte range"},
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"},
    416: {"description": "Range starts past the end; Content-Range: bytes */size"},
}


async def _stream(
    request: Request,
    session: SessionDep,
    objects: ObjectsDep,
    viewer_id: uuid.UUID,
    track_id: uuid.UUID,
    *,
    body: bool,
) -> Response:
    source = await service.audio_source(session, objects, viewer_id, track_id)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": source.etag,
        "Last-Modified": http_date(source.last_modified),
        "Cache-Control": STREAM_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    conditions = request.headers
    if is_not_modified(
        conditions.get("if-none-match"),
        conditions.get("if-modified-since"),
        source.etag,
        source.last_modified,
    ):
        return Response(status_code=304, headers=headers)
    byte_range = None
    if if_range_allows(request.headers.get("if-range"), source.etag, source.last_modified):
        byte_range = parse_range(request.headers.get("range"), source.size)
    start, end, status_code = 0, source.size - 1, 200
    if byte_range is not None:
        start, end, status_code = byte_range.start, byte_range.end, 206
        headers["Content-Range"] = byte_range.content_range(source.size)
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Type"] = source.content_type
    if not body:
        return Response(status_code=status_code, headers=headers)
    return StreamingResponse(source.chunks(start, end), status_code=status_code, headers=headers)


@router.get(
    "/tracks/{track_id}/stream",
    name="stream_track",
    summary="Stream the audio (HTTP range requests)",
    response_class=StreamingResponse,
    responses=_STREAM_RESPONSES,
)
async def stream_track(
    request: Request,
    track_id: TrackId,
    viewer_id: StreamViewer,
    session: SessionDep,
    objects: ObjectsDep,
) -> Response:
    """Authenticate with a bearer token or the `uid`/`exp`/`sig` of a signed stream URL.

    Honours one `Range` (`bytes=a-b`, `bytes=a-`, `bytes=-n`) with 206; a request
    for several ranges gets the whole file (200). `If-Range` that no longer
    matches also gets the whole file. The strong `ETag` is the audio's SHA-256;
    `If-None-Match` and `If-Modified-Since` answer 304.
    """
    return await _stream(request, session, objects, viewer_id, track_id, body=True)


@router.head(
    "/tracks/{track_id}/stream",
    summary="Headers of the audio stream, without the body",
    responses=_STREAM_RESPONSES,
)
async def stream_track_head(
    request: Request,
    track_id: TrackId,
    viewer_id: StreamViewer,
    session: SessionDep,
    objects: ObjectsDep,
) -> Response:
    return await _stream(request, session, objects, viewer_id, track_id, body=False)

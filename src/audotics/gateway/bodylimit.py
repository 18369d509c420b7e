"""Request-body size limit for API bodies (JSON, forms).

Audio uploads are exempt here: the catalog enforces ``max_upload_bytes`` itself
while streaming the upload to disk.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audotics.gateway.errors import problem_response
from audotics.problems import PayloadTooLarge

EXEMPT_CONTENT_TYPES = ("audio/", "multipart/form-data", "application/octet-stream")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if content_type.startswith(EXEMPT_CONTENT_TYPES):
            await self.app(scope, receive, send)
            return
        detail = f"Request body exceeds {self.max_bytes} bytes."
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, detail)(scope, receive, send)
            return
        received = 0
        rejected = False
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 already went out; drop whatever the app answers
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    # Answer 413 now and tell the app the client went away, so it stops
                    # reading; body parsers would otherwise turn any error into a 400.
                    response = _too_large(scope, detail)
                    rejected = True
                    await response(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, guarded_send)


def _too_large(scope: Scope, detail: str) -> Response:
    return problem_response(
        Request(scope), 413, PayloadTooLarge.slug, PayloadTooLarge.title, detail
    )

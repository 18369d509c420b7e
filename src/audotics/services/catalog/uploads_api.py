"""Receiving an upload body into a temporary file without ever holding it in memory.

The byte limit is enforced twice: up front from Content-Length, and while
reading, so a chunked or lying client is cut off at ``limit + 1`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect
from starlette.types import Message

from audotics.problems import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from audotics.services.catalog.media import ReceivedFile

# Room for multipart boundaries and part headers on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
_WRITE_BUFFER = 1024 * 1024
_RAW_TYPES = ("application/octet-stream",)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The audio file exceeds the upload limit of {limit} bytes.", limit=limit
    )


def _check_declared_length(request: Request, allowed: int, limit: int) -> None:
    """Refuse before reading when Content-Length already exceeds ``allowed`` bytes."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise BadRequest("Content-Length must be a number of bytes.")
    if int(declared) > allowed:
        raise _too_large(limit)


class _HashingWriter:
    """Writes to a temporary file in worker threads, hashing and counting as it goes."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self._fh = fh
        self._limit = limit
        self._buffer = bytearray()
        self.size = 0
        self.digest = hashlib.sha256()

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise _too_large(self._limit)
        self.digest.update(chunk)
        self._buffer += chunk
        if len(self._buffer) >= _WRITE_BUFFER:
            await self.flush()

    async def flush(self) -> None:
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            await asyncio.to_thread(self._fh.write, data)
        await asyncio.to_thread(self._fh.flush)


@contextlib.asynccontextmanager
async def _temporary_file() -> AsyncIterator[tuple[Path, BinaryIO]]:
    fd, name = await asyncio.to_thread(tempfile.mkstemp, prefix="audotics-upload-")
    path = Path(name)
    fh = os.fdopen(fd, "wb")
    try:
        yield path, fh
    finally:
        fh.close()
        await asyncio.to_thread(path.unlink, missing_ok=True)


@contextlib.asynccontextmanager
async def receive_raw(request: Request, limit: int) -> AsyncIterator[ReceivedFile]:
    """The request body (``Content-Type: audio/*`` or ``application/octet-stream``)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and not (media_type.startswith("audio/") or media_type in _RAW_TYPES):
        raise UnsupportedMediaType(
            f"Send the audio as the raw body with Content-Type audio/* (got {media_type}); "
            "browsers can POST multipart/form-data with a 'file' field instead."
        )
    _check_declared_length(request, limit, limit)
    async with _temporary_file() as (path, fh):
        writer = _HashingWriter(fh, limit)
        try:
            async for chunk in request.stream():
                await writer.write(chunk)
        except ClientDisconnect:
            raise BadRequest("The upload was interrupted before the body ended.") from None
        await writer.flush()
        yield ReceivedFile(path=path, size=writer.size, sha256=writer.digest.hexdigest())


@contextlib.asynccontextmanager
async def receive_multipart(request: Request, limit: int) -> AsyncIterator[ReceivedFile]:
    """The ``file`` field of a ``multipart/form-data`` body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise UnsupportedMediaType(
            "Send multipart/form-data with the audio in a 'file' field "
            "(or PUT the raw body with Content-Type audio/*)."
        )
    body_limit = limit + MULTIPART_OVERHEAD
    _check_declared_length(request, body_limit, limit)
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > body_limit:
                raise _too_large(limit)
        return message

    try:
        form = await Request(request.scope, limited_receive).form(max_files=1, max_fields=4)
    except ClientDisconnect:
        raise BadRequest("The upload was interrupted before the body ended.") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Unprocessable(
                "The multipart body needs the audio file in a field named 'file'.",
                errors=[{"field": "file", "message": "missing"}],
            )
        async with _temporary_file() as (path, fh):
            writer = _HashingWriter(fh, limit)
            while chunk := await upload.read(_WRITE_BUFFER):
                await writer.write(chunk)
            await writer.flush()
            yield ReceivedFile(path=path, size=writer.size, sha256=writer.digest.hexdigest())
    finally:
        await form.close()

"""The object-store interface shared by both backends."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


class ObjectNotFound(KeyError):
    """No object under that key."""


class InvalidObjectKey(ValueError):
    """The key could escape the store or is not portable across backends."""


_KEY_PART = re.compile(r"^[A-Za-z0-9._-]+$")


def validate_key(key: str) -> str:
    """Keys are ``/``-separated parts of ``[A-Za-z0-9._-]``; no empty, ``.`` or ``..`` parts."""
    if not key or len(key) > 512:
        raise InvalidObjectKey("object key must be 1-512 characters")
    for part in key.split("/"):
        if part in ("", ".", "..") or not _KEY_PART.match(part):
            raise InvalidObjectKey(f"invalid object key {key!r}")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str | None
    last_modified: datetime


class ObjectStore(ABC):
    backend: str = "abstract"

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo: ...

    @abstractmethod
    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        """Store a local file without reading it all into memory."""

    @abstractmethod
    async def get(self, key: str) -> bytes: ...

    @abstractmethod
    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start..end`` inclusive (HTTP Range semantics)."""

    @abstractmethod
    def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Yield bytes ``start..end`` inclusive in chunks."""

    @abstractmethod
    async def head(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove an object; removing a missing key is not an error."""

    @abstractmethod
    async def list(self, prefix: str = "") -> list[ObjectInfo]: ...

    async def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A time-limited direct URL where the backend has them (S3); ``None`` otherwise."""
        return None

    async def exists(self, key: str) -> bool:
        try:
            await self.head(key)
        except ObjectNotFound:
            return False
        return True

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the store is unusable."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

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


class ObjectStoreError(Exception):
    """The backend failed: unreachable, misconfigured or an unexpected server error."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The backend could not be reached in time (connection refused, timeout)."""


class ObjectStoreAccessDenied(ObjectStoreError):
    """The backend refused the credentials or the permission."""


MAX_KEY_LENGTH = 512
MAX_KEY_PART_LENGTH = 255  # a file name on the local backend (NAME_MAX), and SeaweedFS's limit

# Parts may not start with "." so that the local backend can keep its sidecars
# (".meta/") and temporary files (".upload-*") out of the key space.
_KEY_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def validate_key(key: str) -> str:
    """Keys are ``/``-separated parts of ``[A-Za-z0-9._-]``, none empty or starting with ``.``.

    At most 512 characters in all and 255 per part, so every backend can store them.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidObjectKey(f"object key must be 1-{MAX_KEY_LENGTH} characters")
    for part in key.split("/"):
        # fullmatch: re.match with "$" would accept a trailing newline.
        if not _KEY_PART.fullmatch(part):
            raise InvalidObjectKey(f"invalid object key {key!r}")
        if len(part) > MAX_KEY_PART_LENGTH:
            raise InvalidObjectKey(
                f"object key parts must be at most {MAX_KEY_PART_LENGTH} characters"
            )
    return key


def check_range_start(start: int) -> None:
    """Both backends treat ``end < start`` as no bytes; a negative start is a caller bug."""
    if start < 0:
        raise ValueError(f"range start must be >= 0, got {start}")


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
        """Bytes ``start..end`` inclusive (HTTP Range semantics).

        ``end`` past the object clamps to its last byte; ``start`` past the end or
        ``end < start`` gives ``b""``.
        """

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
    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key.

        ``content_type`` may be ``None`` here (S3 listings do not carry it): use ``head``.
        """

    async def presigned_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A time-limited direct URL where the backend has them (S3); ``None`` otherwise."""
        validate_key(key)  # a bad key is an error on every backend, URL or not
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

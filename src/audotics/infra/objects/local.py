"""Object store on a local directory (embedded mode)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from audotics.infra.objects.base import (
    InvalidObjectKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    check_range_start,
    validate_key,
)

# A key part never starts with "." (validate_key), so dot-names are ours: sidecars, temp files.
_TEMP_PREFIX = ".upload-"
# Reading "a/b" where "a" is an object, or "a" where "a/" holds objects: no such object.
_MISSING_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


def _remove_empty_parents(path: Path, top: Path) -> None:
    parent = path.parent
    while parent != top and top in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty (or already gone): the rest above is in use
            return
        parent = parent.parent


class LocalObjectStore(ObjectStore):
    """Objects are files under ``root``; a sidecar JSON under ``root/.meta/<key>`` keeps the
    etag and content type.

    Writes go to a temporary file and are renamed into place, so a reader never
    sees a half-written object.
    """

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._meta_root = self.root / ".meta"

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ObjectNotFound(key)
        return path

    def _meta_path(self, key: str) -> Path:
        # The same relative path in a separate tree: no suffix, so any valid key part fits.
        return self._meta_root / key

    def _temp_file_beside(self, key: str, path: Path) -> tuple[int, str]:
        for attempt in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                # S3 allows both "a" and "a/b"; a directory tree cannot.
                raise InvalidObjectKey(
                    f"object key {key!r} is below an existing object in the local store"
                ) from None
            try:
                return tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
            except FileNotFoundError:
                # A concurrent delete pruned the fresh, still empty directory: make it again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _write(self, key: str, source: Path | bytes, content_type: str | None) -> ObjectInfo:
        path = self._path(key)
        if path.is_dir():
            raise InvalidObjectKey(
                f"object key {key!r} is a prefix of existing objects in the local store"
            )
        digest = hashlib.md5(usedforsecurity=False)
        fd, tmp_name = self._temp_file_beside(key, path)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                    digest.update(source)
                else:
                    with open(source, "rb") as src:
                        while chunk := src.read(1024 * 1024):
                            out.write(chunk)
                            digest.update(chunk)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        ctype = content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"
        self._write_meta(key, {"etag": digest.hexdigest(), "content_type": ctype})
        return self._info(key)

    def _write_meta(self, key: str, meta: dict[str, str]) -> None:
        # Atomic like the data, so a concurrent head never reads half a JSON document.
        meta_path = self._meta_path(key)
        fd, tmp_name = self._temp_file_beside(key, meta_path)
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(meta, out)
            os.replace(tmp_name, meta_path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _info(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            stat = path.stat()
        except _MISSING_ERRORS:
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (*_MISSING_ERRORS, ValueError):
            meta = {"etag": f"{stat.st_size:x}-{int(stat.st_mtime_ns):x}", "content_type": None}
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=meta["etag"],
            content_type=meta.get("content_type"),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        return await asyncio.to_thread(self._write, key, bytes(data), content_type)

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        return await asyncio.to_thread(self._write, key, Path(path), content_type)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except _MISSING_ERRORS:
            raise ObjectNotFound(key) from None

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                return fh.read(max(0, end - start + 1))
        except _MISSING_ERRORS:
            raise ObjectNotFound(key) from None

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        check_range_start(start)
        return await asyncio.to_thread(self._read_range, key, start, end)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        check_range_start(start)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        info = await self.head(key)
        last = info.size - 1 if end is None else min(end, info.size - 1)
        position = start
        while position <= last:
            upto = min(position + chunk_size - 1, last)
            chunk = await self.get_range(key, position, upto)
            if not chunk:
                break
            yield chunk
            position += len(chunk)

    async def head(self, key: str) -> ObjectInfo:
        return await asyncio.to_thread(self._info, key)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():  # a prefix of other objects, not an object: nothing to delete
            return
        meta_path = self._meta_path(key)
        try:
            path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
        except NotADirectoryError:  # "a/b" where "a" is an object: "a/b" cannot exist
            return
        # Empty directories would block a later object named like them ("a" after "a/b").
        _remove_empty_parents(path, self.root)
        _remove_empty_parents(meta_path, self._meta_root)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            # Dot-names are sidecars (.meta/) and temporary files, never objects.
            dirnames[:] = [name for name in dirnames if not name.startswith(".")]
            base = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                key = name if base == "." else f"{base}/{name}"
                if name.startswith(".") or not key.startswith(prefix):
                    continue
                try:
                    found.append(self._info(key))
                except (InvalidObjectKey, ObjectNotFound):
                    continue  # a stray file no key can name, or deleted while listing
        return sorted(found, key=lambda info: info.key)

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        return await asyncio.to_thread(self._list, prefix)

    async def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise OSError(f"object directory {self.root} is not writable")

    def wipe(self) -> None:
        """Remove every object (tests and `demo --reset`)."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)

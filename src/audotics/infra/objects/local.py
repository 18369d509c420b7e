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

from audotics.infra.objects.base import ObjectInfo, ObjectNotFound, ObjectStore, validate_key

_META_SUFFIX = ".meta.json"


class LocalObjectStore(ObjectStore):
    """Objects are files under ``root``; a sidecar JSON keeps the etag and content type.

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
        return self._meta_root / (key + _META_SUFFIX)

    def _write(self, key: str, source: Path | bytes, content_type: str | None) -> ObjectInfo:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.md5(usedforsecurity=False)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
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
        meta_path = self._meta_path(key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps({"etag": digest.hexdigest(), "content_type": ctype}))
        return self._info(key)

    def _info(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (FileNotFoundError, ValueError):
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
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                return fh.read(max(0, end - start + 1))
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self._read_range, key, start, end)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
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
        self._path(key).unlink(missing_ok=True)
        self._meta_path(key).unlink(missing_ok=True)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    def _list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root and ".meta" in dirnames:
                dirnames.remove(".meta")
            for name in filenames:
                if name.startswith(".upload-"):
                    continue
                key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(self._info(key))
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

"""The model registry in object storage, and the holder that serves its current model.

Layout under ``prefix`` (default ``models/cf``) of any :class:`ObjectStore`::

    models/cf/<version>/model.npz    FactorModel.to_bytes() (NumPy archive, no pickle)
    models/cf/<version>/meta.json    version, created_at, kind, engine, snapshot, params,
                                     metrics, train_seconds, artifact sha256 and size
    models/cf/current.json           {"version": ...}: the published one

Publication is ordered so that a reader can never reach half of a version:
``model.npz`` first, then ``meta.json`` (a version exists once its metadata
does, and the metadata carries the artifact's sha256, checked on load), then the
pointer, written last. Each object write is atomic on both backends (rename on
the local directory, a single PUT on S3), so a reader sees the old pointer or
the new one. Versions are ``<UTC time to the microsecond>Z-<random>``, so their
names sort by age. Retention keeps the ``keep`` newest versions and never the
current one's files away; metadata goes first, so a pruned version disappears
from listings before its artifact does.

:class:`ModelHolder` is what a serving process keeps: it loads the current model
on start and swaps in a newer one (on an interval, or when :meth:`refresh` is
called) by replacing one reference to an immutable :class:`ServedModel`. The new
model is downloaded, verified and decoded completely (in a thread, off the event
loop) before the swap, so readers keep answering from the old model meanwhile and
never see a half-loaded one; a failed load leaves the old model in place.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audotics.infra.objects.base import ObjectNotFound, ObjectStore
from audotics.ml.cf.model import FORMAT_VERSION, FactorModel

logger = logging.getLogger("audotics.cf.registry")

DEFAULT_PREFIX = "models/cf"
MODEL_FILE = "model.npz"
META_FILE = "meta.json"
POINTER_FILE = "current.json"


class ModelNotFound(LookupError):
    """No such version (or no published model at all)."""


class CorruptModel(ValueError):
    """A version's artifact does not match its metadata."""


@dataclass(frozen=True)
class ModelMeta:
    version: str
    created_at: str  # ISO 8601, UTC
    kind: str  # "als" | "bpr"
    engine: str  # "implicit" | "spark"
    snapshot: dict[str, Any]  # {"id", "users", "items", "events"}
    params: dict[str, Any]  # model params and the confidence weights
    metrics: dict[str, float]
    train_seconds: float
    artifact: dict[str, Any] = field(default_factory=dict)  # {"sha256", "bytes", "format"}
    evaluation: dict[str, Any] = field(default_factory=dict)  # split, users, baselines

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=_json_default) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelMeta:
        data = json.loads(text)
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names})


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def new_version(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


class ModelRegistry:
    """Versioned factor models in an object store (see the module docstring)."""

    def __init__(self, store: ObjectStore, prefix: str = DEFAULT_PREFIX) -> None:
        self.store = store
        self.prefix = prefix.strip("/")

    def _key(self, version: str, name: str) -> str:
        return f"{self.prefix}/{version}/{name}"

    @property
    def _pointer(self) -> str:
        return f"{self.prefix}/{POINTER_FILE}"

    # --- writing ------------------------------------------------------------------------

    async def publish(
        self,
        model: FactorModel,
        *,
        engine: str,
        snapshot: dict[str, Any],
        train_seconds: float,
        evaluation: dict[str, Any] | None = None,
        keep: int | None = None,
        make_current: bool = True,
    ) -> ModelMeta:
        """Store a new version and (by default) make it the current one; then apply
        retention when ``keep`` is given."""
        data = await asyncio.to_thread(model.to_bytes)
        version = new_version()
        meta = ModelMeta(
            version=version,
            created_at=datetime.now(UTC).isoformat(),
            kind=model.kind,
            engine=engine,
            snapshot=dict(snapshot),
            params=dict(model.params),
            metrics={key: float(value) for key, value in model.metrics.items()},
            train_seconds=float(train_seconds),
            artifact={
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "format": FORMAT_VERSION,
            },
            evaluation=dict(evaluation or {}),
        )
        await self.store.put(self._key(version, MODEL_FILE), data, "application/octet-stream")
        await self.store.put(
            self._key(version, META_FILE), meta.to_json().encode(), "application/json"
        )
        if make_current:
            await self.set_current(version)
        if keep is not None:
            await self.retain(keep)
        return meta

    async def set_current(self, version: str) -> None:
        """Point serving at ``version`` (also a rollback); it must exist."""
        await self.get(version)
        body = json.dumps({"version": version, "published_at": datetime.now(UTC).isoformat()})
        await self.store.put(self._pointer, body.encode(), "application/json")

    async def retain(self, keep: int) -> builtins.list[str]:
        """Delete all but the ``keep`` newest versions (never the current one)."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        current = await self.current_version()
        removed = []
        for version in (await self.versions())[:-keep]:
            if version == current:
                continue
            await self.store.delete(self._key(version, META_FILE))
            await self.store.delete(self._key(version, MODEL_FILE))
            removed.append(version)
        return removed

    # --- reading ------------------------------------------------------------------------

    async def versions(self) -> builtins.list[str]:
        """Complete versions (those with metadata), oldest first."""
        found = []
        for info in await self.store.list(self.prefix + "/"):
            rest = info.key[len(self.prefix) + 1 :]
            parts = rest.split("/")
            if len(parts) == 2 and parts[1] == META_FILE:
                found.append(parts[0])
        return sorted(found)

    async def list(self) -> builtins.list[ModelMeta]:
        metas = []
        for version in await self.versions():
            with contextlib.suppress(ModelNotFound):  # pruned meanwhile
                metas.append(await self.get(version))
        return metas

    async def get(self, version: str) -> ModelMeta:
        try:
            return ModelMeta.from_json(await self.store.get(self._key(version, META_FILE)))
        except ObjectNotFound:
            raise ModelNotFound(version) from None

    async def current_version(self) -> str | None:
        try:
            pointer = json.loads(await self.store.get(self._pointer))
        except ObjectNotFound:
            return None
        return str(pointer["version"])

    async def latest(self) -> ModelMeta | None:
        """The current (published) version's metadata, or None before the first one."""
        version = await self.current_version()
        return None if version is None else await self.get(version)

    async def load(self, version: str | None = None) -> tuple[FactorModel, ModelMeta]:
        """A version's model (default: the current one), its artifact checked against its
        metadata. Raises ModelNotFound or CorruptModel."""
        if version is None:
            version = await self.current_version()
            if version is None:
                raise ModelNotFound("no model has been published")
        meta = await self.get(version)
        try:
            data = await self.store.get(self._key(version, MODEL_FILE))
        except ObjectNotFound:
            raise ModelNotFound(version) from None
        model = await asyncio.to_thread(_decode, data, meta)
        return model, meta


def _decode(data: bytes, meta: ModelMeta) -> FactorModel:
    expected = meta.artifact.get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise CorruptModel(f"model {meta.version}: artifact does not match its sha256")
    try:
        model = FactorModel.from_bytes(data)
    except ValueError as exc:
        raise CorruptModel(f"model {meta.version}: {exc}") from exc
    for array in (model.user_factors, model.item_factors):
        array.setflags(write=False)  # shared by every reader: nobody may change it
    return model


@dataclass(frozen=True, eq=False)
class ServedModel:
    """One loaded version: what a request reads, start to end, whatever swaps meanwhile."""

    model: FactorModel
    meta: ModelMeta
    loaded_at: float  # time.monotonic()

    @property
    def version(self) -> str:
        return self.meta.version


class ModelHolder:
    """Keeps the registry's current model loaded and swaps in newer ones without downtime."""

    def __init__(self, registry: ModelRegistry, *, interval_s: float | None = 60.0) -> None:
        self.registry = registry
        self.interval_s = interval_s
        self._served: ServedModel | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.swaps = 0
        self.failures = 0

    @property
    def current(self) -> ServedModel | None:
        """The model to use now (None before the first one is published). Take it once per
        request: a later swap replaces the holder's reference, never this object."""
        return self._served

    async def start(self) -> None:
        """Load the current model (if any) and start checking on the interval."""
        try:
            await self.refresh()
        except Exception:  # serve without a model rather than not at all; the poll retries
            logger.warning("could not load the current CF model", exc_info=True)
        if self.interval_s is not None and self._task is None:
            self._task = asyncio.create_task(self._poll(), name="cf-model-holder")

    async def refresh(self) -> bool:
        """Swap in the current version if it differs from the served one; True if it did."""
        async with self._lock:
            version = await self.registry.current_version()
            served = self._served
            if version is None or (served is not None and served.version == version):
                return False
            try:
                model, meta = await self.registry.load(version)
                await asyncio.to_thread(model._item_gram)  # fold-in is fast from the first call
            except Exception:
                self.failures += 1
                raise
            self._served = ServedModel(model, meta, time.monotonic())  # the atomic swap
            self.swaps += 1
            logger.info("serving CF model %s", version)
            return True

    async def _poll(self) -> None:
        assert self.interval_s is not None
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.refresh()
            except Exception:
                logger.warning("CF model refresh failed; still serving the old one", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

"""Similar tracks by sound: an ANN index over the stored embeddings, per API process.

Keeping it current (see docs/adr/0006-ann-index.md): rather than a consumer group per
process on "track.analyzed" (groups outlive their processes in Redis, and a lost event
would leave a hole until restart), every query first reads the newest ``analysed_at``
from the database, an index lookup. When it is newer than what the index has seen,
or was written within ``OVERLAP`` (a transaction that committed late may still
appear), the rows analysed since then (minus ``OVERLAP``) are upserted. Deleted tracks,
removed audio and replaced audio are found at query time: candidates are checked
against the database (visible to the caller, current features) and the missing ones
dropped from the index.

The first query builds the index from a snapshot in the object store, if there is one,
plus the rows analysed since; otherwise from every stored embedding, then saves a
snapshot. Snapshots are written again every ``snapshot_every`` changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import uuid
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.infra.objects.base import ObjectNotFound, ObjectStore, ObjectStoreError
from audotics.ml.audio.types import ANALYSIS_VERSION, EMBEDDING_DIM
from audotics.ml.similarity import IndexFormatError, VectorIndex
from audotics.services.catalog import features
from audotics.services.catalog.analysis_schemas import SimilarBy, SimilarTrack, SimilarTracks

logger = logging.getLogger("audotics.catalog.similarity")

OVERLAP = timedelta(seconds=30)
_SNAPSHOT = struct.Struct("<I")  # length of the JSON header before the index bytes
_ROUNDS = 3
_INLINE_ROWS = 200  # more than this are inserted in a thread (HNSW inserts cost ~0.1-1 ms)


def _insert(index: VectorIndex, rows: list[features.SoundEmbedding]) -> None:
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        index.upsert_many([row.track_id for row in batch], np.stack([row.vector for row in batch]))


def snapshot_key(version: str = ANALYSIS_VERSION) -> str:
    return f"indexes/sound/{version}.idx"


class SoundIndex:
    def __init__(self, objects: ObjectStore | None = None, *, snapshot_every: int = 1000) -> None:
        self._objects = objects
        self._snapshot_every = snapshot_every
        self._index: VectorIndex | None = None
        self._owners: dict[uuid.UUID, uuid.UUID] = {}  # private tracks only
        self._stamps: dict[uuid.UUID, datetime] = {}  # analysed_at of what the index holds
        self._seen: datetime | None = None  # newest analysed_at taken in
        self._changes = 0  # since the last snapshot
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else 0

    # --- keeping current ----------------------------------------------------------------

    def _is_current(self, latest: datetime | None) -> bool:
        if self._index is None:
            return False
        if latest is None:
            return True
        if self._seen is None or latest > self._seen:
            return False
        return utcnow() - latest > OVERLAP

    async def refresh(self, session: AsyncSession) -> None:
        """Bring the index up to date with the database (cheap when nothing changed)."""
        latest = await features.sound_embeddings_watermark(session)
        if self._is_current(latest):
            return
        async with self._lock:
            if self._index is None:
                await self._load_or_build(session)
            elif not self._is_current(latest):
                await self._catch_up(session)
        if self._changes >= self._snapshot_every:
            await self._save()

    async def _take(self, rows: list[features.SoundEmbedding]) -> None:
        """Upsert rows not yet taken in; a large batch is inserted off the event loop."""
        index = self._index
        assert index is not None
        fresh = [row for row in rows if self._stamps.get(row.track_id) != row.analysed_at]
        usable = [row for row in fresh if row.vector.shape == (index.dim,)]
        if len(usable) < len(fresh):
            logger.warning("skipped %d embeddings of the wrong size", len(fresh) - len(usable))
        if len(usable) > _INLINE_ROWS:
            await asyncio.to_thread(_insert, index, usable)
        else:
            _insert(index, usable)
        for row in usable:
            self._stamps[row.track_id] = row.analysed_at
            if row.owner_id is None:
                self._owners.pop(row.track_id, None)
            else:
                self._owners[row.track_id] = row.owner_id
            if self._seen is None or row.analysed_at > self._seen:
                self._seen = row.analysed_at
        self._changes += len(usable)

    async def _catch_up(self, session: AsyncSession) -> None:
        since = self._seen - OVERLAP if self._seen is not None else None
        await self._take(await features.sound_embeddings(session, since=since))

    async def _load_or_build(self, session: AsyncSession) -> None:
        if await self._load():
            await self._catch_up(session)
            return
        rows = await features.sound_embeddings(session)
        dim = rows[0].vector.shape[0] if rows else EMBEDDING_DIM
        self._index, self._owners, self._stamps, self._seen = VectorIndex(dim), {}, {}, None
        await self._take(rows)
        logger.info("built the sound index from %d embeddings", len(rows))
        if rows:
            await self._save()

    # --- snapshots ----------------------------------------------------------------------

    async def _load(self) -> bool:
        if self._objects is None:
            return False
        try:
            data = await self._objects.get(snapshot_key())
            (length,) = _SNAPSHOT.unpack_from(data, 0)
            header = json.loads(data[_SNAPSHOT.size : _SNAPSHOT.size + length])
            index = await asyncio.to_thread(VectorIndex.from_bytes, data[_SNAPSHOT.size + length :])
            owners = {uuid.UUID(k): uuid.UUID(v) for k, v in header["owners"].items()}
            seen = datetime.fromisoformat(header["seen"]) if header["seen"] else None
        except ObjectNotFound:
            return False
        except (ObjectStoreError, IndexFormatError, ValueError, KeyError, struct.error) as exc:
            logger.warning("ignoring the sound index snapshot: %s", exc)
            return False
        self._index, self._owners, self._seen, self._changes = index, owners, seen, 0
        self._stamps = {}
        logger.info("loaded the sound index snapshot (%d tracks)", len(index))
        return True

    async def _save(self) -> None:
        if self._objects is None or self._index is None:
            return
        header = json.dumps(
            {
                "version": ANALYSIS_VERSION,
                "seen": self._seen.isoformat() if self._seen else None,
                "owners": {str(k): str(v) for k, v in self._owners.items()},
            }
        ).encode()
        body = await asyncio.to_thread(self._index.to_bytes)
        self._changes = 0
        try:
            await self._objects.put(
                snapshot_key(),
                _SNAPSHOT.pack(len(header)) + header + body,
                "application/octet-stream",
            )
        except ObjectStoreError as exc:  # only slows the next start
            logger.warning("could not save the sound index snapshot: %s", exc)

    # --- queries ------------------------------------------------------------------------

    async def similar(
        self, session: AsyncSession, viewer_id: uuid.UUID, track_id: uuid.UUID, limit: int
    ) -> SimilarTracks:
        """Tracks that sound most like ``track_id`` among those ``viewer_id`` may see.

        404 when the viewer may not see the track, 409 when it has no current analysis.
        """
        seed = await features.sound_seed(session, viewer_id, track_id)
        await self.refresh(session)
        index = self._index
        assert index is not None
        if seed.track_id not in index and seed.vector.shape == (index.dim,):
            await self._take([seed])

        def allow(candidate: uuid.UUID) -> bool:
            owner = self._owners.get(candidate)
            return owner is None or owner == viewer_id

        exclude = {seed.track_id}
        items: list[SimilarTrack] = []
        for _ in range(_ROUNDS):
            found = index.query(seed.vector, limit + 5, exclude=exclude, allow=allow)
            tracks = await features.analysed_tracks(session, [n.id for n in found], viewer_id)
            gone = [n.id for n in found if n.id not in tracks]
            for missing in gone:  # deleted, audio removed or replaced: forget it
                index.remove(missing)
                self._owners.pop(missing, None)
                self._stamps.pop(missing, None)
                exclude.add(missing)
            items = [
                SimilarTrack(track=tracks[n.id], score=n.score) for n in found if n.id in tracks
            ]
            if len(items) >= limit or not gone:
                break
        return SimilarTracks(seed_id=seed.track_id, by=SimilarBy.sound, items=items[:limit])

"""Tracks' audio files: storing validated uploads, streaming them, removing them.

Objects and rows cannot share a transaction, so the order is chosen to never
leave a row pointing at a missing object: new objects are written before the
commit that references them (and removed again if it fails); replaced or
deleted objects are removed only after the commit that stops referencing them.
Whatever a crash leaves behind is unreferenced and :func:`service.purge_orphaned_audio`
collects it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.infra.objects.base import ObjectNotFound, ObjectStore, ObjectStoreError
from audotics.infra.queue.base import JobQueue
from audotics.problems import NotFound, ServiceUnavailable
from audotics.services.catalog import analysis, indexing, repository
from audotics.services.catalog.audio import probe_audio
from audotics.services.catalog.convert import track_out
from audotics.services.catalog.models import ANALYSIS_NONE, Track
from audotics.services.catalog.resolve import editable_track, visible_track
from audotics.services.catalog.schemas import TrackOut, Viewer
from audotics.services.search.schemas import DocumentKind

logger = logging.getLogger("audotics.catalog")
T = TypeVar("T")


@dataclass(frozen=True)
class ReceivedFile:
    """An upload spooled to a local temporary file, hashed on the way in."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class AudioSource:
    """What the stream endpoint needs to answer for one track's audio."""

    track_id: uuid.UUID
    size: int
    content_type: str
    etag: str  # strong: the content's SHA-256
    last_modified: datetime
    _objects: ObjectStore
    _key: str

    def chunks(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start..end`` (inclusive) straight from object storage, in chunks."""
        return self._objects.stream(self._key, start, end)


async def _storage(action: Callable[[], Awaitable[T]]) -> T:
    try:
        return await action()
    except ObjectStoreError as exc:
        logger.warning("object storage failed: %s", exc)
        raise ServiceUnavailable("Audio storage is unavailable; try again shortly.") from exc


async def _discard(objects: ObjectStore, key: str) -> None:
    """Best-effort removal of an object no row references any more."""
    try:
        await objects.delete(key)
    except ObjectStoreError as exc:  # an orphan, collected by purge_orphaned_audio
        logger.warning("could not delete object %s: %s", key, exc)


def audio_key(track_id: uuid.UUID, sha256: str, extension: str) -> str:
    return f"audio/{track_id}/{sha256}.{extension}"


async def on_audio_stored(
    session: AsyncSession, track: Track, jobs: JobQueue | None = None
) -> None:
    """Hook run in the transaction that stores new audio for ``track``, before its commit.

    Records that analysis is due and, given ``jobs``, enqueues the "audio.analyze" job
    (a queue failure is a 503 and the whole upload rolls back). Without ``jobs`` the
    track waits as "pending" for `audotics analyze --all` or an embedded start-up sweep.
    """
    analysis.mark_pending(track)
    if jobs is not None:
        await analysis.request_analysis(jobs, track)


async def store_track_audio(
    session: AsyncSession,
    objects: ObjectStore,
    viewer: Viewer,
    track_id: uuid.UUID,
    upload: ReceivedFile,
    *,
    jobs: JobQueue | None = None,
) -> TrackOut:
    """Validate ``upload``, store it and point the track at it; commits.

    Raises 415/422 before anything is stored when the file is not audio we accept.
    Given ``jobs``, the analysis job is enqueued before the commit (see on_audio_stored).
    """
    probed = await asyncio.to_thread(probe_audio, upload.path)
    key = audio_key(track_id, upload.sha256, probed.format.extension)
    await editable_track(session, viewer, track_id)  # still there and still theirs
    info = await _storage(lambda: objects.put_file(key, upload.path, probed.format.content_type))
    previous_key: str | None = None
    try:
        track = await editable_track(session, viewer, track_id, for_update=True)
        previous_key = track.audio_key
        track.audio_key = key
        track.audio_size = upload.size
        track.audio_content_type = probed.format.content_type
        track.audio_etag = info.etag
        track.audio_sha256 = upload.sha256
        track.audio_format = probed.format.name
        track.audio_sample_rate = probed.sample_rate
        track.audio_channels = probed.channels
        track.audio_uploaded_at = utcnow()
        track.duration_s = round(probed.duration_s, 3)
        track.updated_at = utcnow()
        await repository.delete_features(session, track.id)  # they described the old audio
        await on_audio_stored(session, track, jobs)
        await session.flush()
        await indexing.index_tracks(session, [track])
        result = track_out(track)
        await session.commit()
    except BaseException:
        if key != previous_key:  # the same bytes re-uploaded share the old key
            await _discard(objects, key)
        raise
    if previous_key and previous_key != key:
        await _discard(objects, previous_key)
    return result


async def delete_track_audio(
    session: AsyncSession, objects: ObjectStore, viewer: Viewer, track_id: uuid.UUID
) -> TrackOut:
    """Detach and delete a track's audio (and its analysis); commits."""
    track = await editable_track(session, viewer, track_id, for_update=True)
    previous_key = track.audio_key
    if previous_key is None:
        raise NotFound("This track has no audio.")
    for column in (
        "audio_key",
        "audio_size",
        "audio_content_type",
        "audio_etag",
        "audio_sha256",
        "audio_format",
        "audio_sample_rate",
        "audio_channels",
        "audio_uploaded_at",
    ):
        setattr(track, column, None)
    track.analysis_status = ANALYSIS_NONE
    track.updated_at = utcnow()
    await repository.delete_features(session, track.id)
    await session.flush()
    await indexing.index_tracks(session, [track])
    result = track_out(track)
    await session.commit()
    await _discard(objects, previous_key)
    return result


async def delete_track(
    session: AsyncSession, objects: ObjectStore, viewer: Viewer, track_id: uuid.UUID
) -> None:
    """Delete a track, its search entry and (after the commit) its audio; commits."""
    track = await editable_track(session, viewer, track_id, for_update=True)
    previous_key = track.audio_key
    await indexing.remove(session, DocumentKind.track, [track.id])
    await session.delete(track)
    await session.commit()
    if previous_key:
        await _discard(objects, previous_key)


async def audio_source(
    session: AsyncSession, objects: ObjectStore, viewer_id: uuid.UUID, track_id: uuid.UUID
) -> AudioSource:
    """The track's audio if ``viewer_id`` may play it; 404 when it has none."""
    track = await visible_track(session, viewer_id, track_id)
    key = track.audio_key
    if key is None or track.audio_sha256 is None or track.audio_uploaded_at is None:
        raise NotFound("This track has no audio yet.", title="No audio")
    try:
        info = await _storage(lambda: objects.head(key))
    except ObjectNotFound:
        logger.error("track %s references missing object %s", track_id, key)
        raise NotFound("The audio file for this track is missing.", title="No audio") from None
    return AudioSource(
        track_id=track.id,
        size=info.size,
        content_type=track.audio_content_type or info.content_type or "application/octet-stream",
        etag=f'"{track.audio_sha256}"',
        last_modified=track.audio_uploaded_at,
        _objects=objects,
        _key=key,
    )

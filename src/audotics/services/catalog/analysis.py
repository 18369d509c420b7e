"""Content analysis state of the catalog's tracks: requests, results, failures, embeddings.

The catalog owns ``tracks.analysis_*`` and ``track_audio_features``; jobs and the
CLI call these functions (through :mod:`service`) and commit themselves.

Life of an analysis (``tracks.analysis_status``)::

    none --audio stored--> pending --stored features--> done
                              \\--deterministic error or attempts spent--> failed

A job names the audio it was asked to analyse by its SHA-256 and upload time; results
are written only if the track still has that audio (``FOR UPDATE`` on PostgreSQL),
so a job overtaken by a newer upload never overwrites fresher data.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from audotics.infra.db import utcnow
from audotics.infra.queue.base import JobQueue
from audotics.ml.audio.types import ANALYSIS_VERSION, AudioFeatures
from audotics.problems import ServiceUnavailable
from audotics.services.catalog import indexing, repository
from audotics.services.catalog.analysis_schemas import AnalysisTarget
from audotics.services.catalog.features import utc as _utc
from audotics.services.catalog.models import (
    ANALYSIS_DONE,
    ANALYSIS_FAILED,
    ANALYSIS_NONE,
    ANALYSIS_PENDING,
    Track,
    TrackAudioFeatures,
)

logger = logging.getLogger("audotics.catalog.analysis")

ANALYZE_JOB = "audio.analyze"
ANALYZED_EVENT = "track.analyzed"
# Attempts per stored audio, whoever makes them (queue retries, redelivery, sweeps).
ANALYSIS_MAX_ATTEMPTS = 3
_ERROR_MAX = 500
_SCALARS = (
    "tempo_bpm",
    "tempo_confidence",
    "key_confidence",
    "loudness_lufs",
    "dynamic_range_db",
    "energy",
    "danceability",
    "acousticness",
    "instrumentalness",
    "valence",
    "onset_rate",
    "spectral_centroid",
    "spectral_rolloff",
    "spectral_flatness",
    "spectral_bandwidth",
    "zero_crossing_rate",
)
_PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class InvalidFeatures(ValueError):
    """The analysis returned something that cannot be stored (e.g. a NaN embedding)."""


class Begin(StrEnum):
    """What :func:`begin_analysis` found."""

    start = "start"  # go ahead; the attempt is counted
    done = "done"  # already analysed at this version: nothing to do
    stale = "stale"  # the track or its audio changed since the job was made: drop it
    not_committed = "not-committed"  # the upload's transaction has not committed (yet)
    gave_up = "gave-up"  # attempts spent: recorded as failed


def _target(track: Track, features_version: str | None) -> AnalysisTarget:
    return AnalysisTarget(
        track_id=track.id,
        owner_id=track.owner_id,
        audio_key=track.audio_key or "",
        audio_sha256=track.audio_sha256 or "",
        audio_uploaded_at=_utc(track.audio_uploaded_at),
        status=track.analysis_status,
        attempts=track.analysis_attempts or 0,
        features_version=features_version,
    )


# --- requesting ------------------------------------------------------------------------


def analysis_job_payload(
    track_id: uuid.UUID, audio_sha256: str, uploaded_at: datetime | None
) -> dict[str, Any]:
    moment = _utc(uploaded_at)
    return {
        "track_id": str(track_id),
        "audio_sha256": audio_sha256,
        "uploaded_at": moment.isoformat() if moment else None,
    }


async def request_analysis(jobs: JobQueue, track: Track) -> str:
    """Enqueue the analysis of the track's current audio; 503 when the queue is down.

    Called inside the transaction that stores the audio, before its commit: if the
    queue refuses, the upload fails as a whole and nothing is stored.
    """
    if not track.audio_sha256:
        raise ValueError("the track has no audio to analyse")
    try:
        return await jobs.enqueue(
            ANALYZE_JOB,
            analysis_job_payload(track.id, track.audio_sha256, track.audio_uploaded_at),
            max_attempts=ANALYSIS_MAX_ATTEMPTS,
        )
    except Exception as exc:  # any backend failure: refuse the upload, store nothing
        logger.warning("could not enqueue analysis of track %s: %s", track.id, exc)
        raise ServiceUnavailable(
            "The analysis queue is unavailable, so the audio was not stored; try again shortly."
        ) from exc


def mark_pending(track: Track) -> None:
    """New audio: analysis is due, with a fresh attempt budget."""
    track.analysis_status = ANALYSIS_PENDING
    track.analysis_error = None
    track.analysis_attempts = 0


# --- running ---------------------------------------------------------------------------


async def _current_features_version(session: AsyncSession, track_id: uuid.UUID) -> str | None:
    version = await session.scalar(
        select(TrackAudioFeatures.analysis_version).where(TrackAudioFeatures.track_id == track_id)
    )
    return str(version) if version is not None else None


async def begin_analysis(
    session: AsyncSession,
    track_id: uuid.UUID,
    audio_sha256: str,
    uploaded_at: datetime | None = None,
    *,
    max_attempts: int | None = ANALYSIS_MAX_ATTEMPTS,
    force: bool = False,
    retry_failed: bool = False,
) -> tuple[Begin, AnalysisTarget | None]:
    """Check a job against the track and count the attempt (caller commits).

    ``uploaded_at`` (from the job) tells an upload whose transaction has not committed
    yet from one that a newer upload replaced. A failure recorded as final settles the
    audio until it is replaced (``retry_failed`` tries again), and ``force`` analyses
    even what is done. ``max_attempts=None`` does not bound attempts (``analyze --all``).
    """
    track = await repository.track_by_id(session, track_id, for_update=True)
    if track is None:
        return Begin.stale, None
    if track.audio_sha256 != audio_sha256 or not track.audio_key:
        stored_at = _utc(track.audio_uploaded_at)
        wanted_at = _utc(uploaded_at)
        if wanted_at is not None and (stored_at is None or stored_at < wanted_at):
            return Begin.not_committed, None
        return Begin.stale, None
    version = await _current_features_version(session, track_id)
    if not force and version == ANALYSIS_VERSION and track.analysis_status == ANALYSIS_DONE:
        return Begin.done, _target(track, version)
    if not (force or retry_failed) and track.analysis_status == ANALYSIS_FAILED:
        return Begin.done, _target(track, version)
    if max_attempts is not None and track.analysis_attempts >= max_attempts:
        reason = track.analysis_error or "the worker stopped before finishing"
        track.analysis_status = ANALYSIS_FAILED
        track.analysis_error = _clip(f"gave up after {track.analysis_attempts} attempts: {reason}")
        return Begin.gave_up, _target(track, version)
    track.analysis_attempts = (track.analysis_attempts or 0) + 1
    if track.analysis_status in (ANALYSIS_NONE, ANALYSIS_FAILED) and version is None:
        track.analysis_status = ANALYSIS_PENDING
    else:
        _keep_updated_at(track)  # bookkeeping clients don't see
    return Begin.start, _target(track, version)


def _keep_updated_at(track: Track) -> None:
    """Write ``updated_at`` as it is, so its on-update default does not move it."""
    flag_modified(track, "updated_at")


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _finite_list(values: Sequence[Any] | None) -> list[float] | None:
    if not values:
        return None
    numbers = [_finite(value) for value in values]
    if any(number is None for number in numbers):
        return None
    return [float(number) for number in numbers if number is not None]


def encode_embedding(values: Sequence[float]) -> bytes:
    """Unit-length float32 little-endian bytes; InvalidFeatures for NaN or zero vectors."""
    vector = np.asarray(values, dtype=np.float64)
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        raise InvalidFeatures("the analysis produced an invalid embedding (empty or not finite)")
    norm = float(np.linalg.norm(vector))
    if norm <= 1e-12:
        raise InvalidFeatures("the analysis produced an all-zero embedding")
    return (vector / norm).astype("<f4").tobytes()


def _feature_values(features: AudioFeatures) -> dict[str, Any]:
    key = features.key if features.key in _PITCH_CLASSES else None
    mode = features.mode if features.mode in ("major", "minor") else None
    window = {name: _finite(value) for name, value in (features.window or {}).items()}
    values: dict[str, Any] = {name: _finite(getattr(features, name)) for name in _SCALARS}
    values.update(
        analysis_version=str(features.analysis_version),
        key=key,
        mode=mode if key else None,
        chroma=_finite_list(features.chroma),
        mfcc_mean=_finite_list(features.mfcc_mean),
        mfcc_var=_finite_list(features.mfcc_var),
        embedding=encode_embedding(features.embedding),
        window={k: v for k, v in window.items() if v is not None} or None,
    )
    return values


async def store_analysis(
    session: AsyncSession, track_id: uuid.UUID, audio_sha256: str, features: AudioFeatures
) -> dict[str, Any] | None:
    """Store ``features`` for the track's audio, mark it done and re-index it in search.

    Returns the ``track.analyzed`` event payload, or None when the track no longer has
    that audio (nothing is written). Raises InvalidFeatures before writing anything
    when the result cannot be stored. The caller commits.
    """
    values = _feature_values(features)
    track = await repository.track_by_id(session, track_id, for_update=True)
    if track is None or track.audio_sha256 != audio_sha256:
        return None
    row = await session.get(TrackAudioFeatures, track_id)
    if row is None:
        row = TrackAudioFeatures(track_id=track_id)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.analysed_at = utcnow()
    track.analysis_status = ANALYSIS_DONE
    track.analysis_error = None
    track.updated_at = utcnow()
    await session.flush()
    await indexing.index_tracks(session, [track])
    return {
        "track_id": str(track.id),
        "owner_id": str(track.owner_id) if track.owner_id else None,
        "audio_sha256": audio_sha256,
        "analysis_version": row.analysis_version,
        "tempo_bpm": row.tempo_bpm,
        "key": row.key,
        "mode": row.mode,
        "energy": row.energy,
    }


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_MAX else text[: _ERROR_MAX - 1] + "…"


async def record_analysis_failure(
    session: AsyncSession, track_id: uuid.UUID, audio_sha256: str, reason: str, *, final: bool
) -> bool:
    """Record why an attempt failed; ``final`` marks the track failed. The caller commits.

    A non-final failure keeps the status (pending, or done from an older version)
    while the queue retries. False when the track no longer has that audio.
    """
    track = await repository.track_by_id(session, track_id, for_update=True)
    if track is None or track.audio_sha256 != audio_sha256:
        return False
    track.analysis_error = _clip(reason)
    if final:
        track.analysis_status = ANALYSIS_FAILED
        track.updated_at = utcnow()
    else:
        _keep_updated_at(track)
    return True


async def analysis_state(session: AsyncSession, track_id: uuid.UUID) -> AnalysisTarget | None:
    """The track's analysis bookkeeping (jobs, tests and operators), None when it is gone."""
    track = await repository.track_by_id(session, track_id)
    if track is None or not track.audio_key:
        return None
    return _target(track, await _current_features_version(session, track_id))


# --- finding work ----------------------------------------------------------------------


async def _targets(session: AsyncSession, *conditions: Any) -> list[AnalysisTarget]:
    # Columns, not entities: `analyze --all` may list the whole catalog.
    rows = await session.execute(
        select(
            Track.id,
            Track.owner_id,
            Track.audio_key,
            Track.audio_sha256,
            Track.audio_uploaded_at,
            Track.analysis_status,
            Track.analysis_attempts,
            TrackAudioFeatures.analysis_version,
        )
        .outerjoin(TrackAudioFeatures, TrackAudioFeatures.track_id == Track.id)
        .where(Track.audio_key.is_not(None), Track.audio_sha256.is_not(None), *conditions)
        .order_by(Track.created_at, Track.id)
    )
    return [
        AnalysisTarget(
            track_id=track_id,
            owner_id=owner_id,
            audio_key=key or "",
            audio_sha256=sha or "",
            audio_uploaded_at=_utc(uploaded_at),
            status=status,
            attempts=attempts or 0,
            features_version=version,
        )
        for track_id, owner_id, key, sha, uploaded_at, status, attempts, version in rows.all()
    ]


async def tracks_needing_analysis(
    session: AsyncSession, *, force: bool = False, version: str = ANALYSIS_VERSION
) -> list[AnalysisTarget]:
    """Tracks with audio but no features of ``version`` (every track with audio: ``force``)."""
    if force:
        return await _targets(session)
    return await _targets(
        session,
        or_(
            TrackAudioFeatures.analysis_version.is_(None),
            TrackAudioFeatures.analysis_version != version,
        ),
    )


async def pending_analysis(
    session: AsyncSession, *, max_attempts: int = ANALYSIS_MAX_ATTEMPTS
) -> list[AnalysisTarget]:
    """Tracks waiting for analysis with attempts left (re-queued after an embedded restart)."""
    return await _targets(
        session,
        Track.analysis_status == ANALYSIS_PENDING,
        Track.analysis_attempts < max_attempts,
    )

"""Reading what content analysis stored: features for clients, embeddings for similarity.

Part of the catalog's analysis state (see :mod:`analysis`); runs in the caller's session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.ml.audio.types import ANALYSIS_VERSION
from audotics.problems import Conflict
from audotics.services.catalog import repository
from audotics.services.catalog.analysis_schemas import AnalysisWindow, TrackFeaturesOut
from audotics.services.catalog.convert import track_summary
from audotics.services.catalog.models import ANALYSIS_FAILED, Track, TrackAudioFeatures
from audotics.services.catalog.resolve import visible_track
from audotics.services.catalog.schemas import TrackSummary


@dataclass(frozen=True)
class SoundEmbedding:
    track_id: uuid.UUID
    owner_id: uuid.UUID | None
    vector: np.ndarray
    analysed_at: datetime


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they are stored as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def decode_embedding(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _unavailable(track: Track, version: str | None) -> Conflict:
    status = track.analysis_status
    if not track.audio_key:
        return Conflict(
            "This track has no audio to analyse.", title="No audio", analysis_status=status
        )
    if status == ANALYSIS_FAILED:
        return Conflict(
            f"Analysis of this track's audio failed: {track.analysis_error or 'unknown error'}",
            title="Analysis failed",
            analysis_status=status,
            analysis_error=track.analysis_error,
        )
    if version is not None and version != ANALYSIS_VERSION:
        return Conflict(
            f"This track was analysed by an older version ({version}); "
            "it is waiting to be analysed again.",
            title="Not analysed yet",
            analysis_status=status,
        )
    return Conflict(
        "This track's audio has not been analysed yet; try again shortly.",
        title="Not analysed yet",
        analysis_status=status,
    )


async def get_track_features(
    session: AsyncSession,
    viewer_id: uuid.UUID,
    track_id: uuid.UUID,
    *,
    include_embedding: bool = False,
) -> TrackFeaturesOut:
    """The stored features of a track the viewer may see: 404 unknown, 409 none yet."""
    track = await visible_track(session, viewer_id, track_id)
    row = await session.get(TrackAudioFeatures, track_id)
    if row is None:
        raise _unavailable(track, None)
    window = row.window or {}
    return TrackFeaturesOut(
        track_id=track_id,
        analysis_version=row.analysis_version,
        analysed_at=row.analysed_at,
        window=AnalysisWindow(**window) if {"start_s", "end_s"} <= set(window) else None,
        embedding=decode_embedding(row.embedding).tolist()
        if include_embedding and row.embedding
        else None,
        **{
            name: getattr(row, name)
            for name in TrackFeaturesOut.model_fields
            if name not in ("track_id", "analysis_version", "analysed_at", "window", "embedding")
        },
    )


async def sound_embeddings(
    session: AsyncSession, *, since: datetime | None = None, version: str = ANALYSIS_VERSION
) -> list[SoundEmbedding]:
    """Embeddings of ``version`` (analysed at or after ``since``), with owners."""
    query = (
        select(
            TrackAudioFeatures.track_id,
            Track.owner_id,
            TrackAudioFeatures.embedding,
            TrackAudioFeatures.analysed_at,
        )
        .join(Track, Track.id == TrackAudioFeatures.track_id)
        .where(
            TrackAudioFeatures.analysis_version == version,
            TrackAudioFeatures.embedding.is_not(None),
        )
    )
    if since is not None:
        query = query.where(TrackAudioFeatures.analysed_at >= since)
    found = []
    for track_id, owner_id, raw, analysed_at in (await session.execute(query)).all():
        moment = utc(analysed_at)
        if raw is None or moment is None:
            continue
        found.append(SoundEmbedding(track_id, owner_id, decode_embedding(raw), moment))
    return found


async def sound_embeddings_watermark(session: AsyncSession) -> datetime | None:
    """When the newest stored analysis was made (cheap: an index lookup)."""
    return utc(await session.scalar(select(func.max(TrackAudioFeatures.analysed_at))))


async def sound_seed(
    session: AsyncSession, viewer_id: uuid.UUID, track_id: uuid.UUID
) -> SoundEmbedding:
    """The embedding of a track the viewer may see: 404 unknown, 409 not analysed."""
    track = await visible_track(session, viewer_id, track_id)
    row = await session.get(TrackAudioFeatures, track_id)
    if row is None or row.embedding is None or row.analysis_version != ANALYSIS_VERSION:
        raise _unavailable(track, row.analysis_version if row else None)
    moment = utc(row.analysed_at)
    assert moment is not None
    return SoundEmbedding(track.id, track.owner_id, decode_embedding(row.embedding), moment)


async def analysed_tracks(
    session: AsyncSession, ids: Sequence[uuid.UUID], viewer_id: uuid.UUID | None
) -> dict[uuid.UUID, TrackSummary]:
    """Summaries of the tracks among ``ids`` the viewer may see that have current features."""
    tracks = await repository.tracks_by_ids(session, list(dict.fromkeys(ids)), viewer_id)
    features = await repository.features_of(session, [track.id for track in tracks])
    return {
        track.id: track_summary(track)
        for track in tracks
        if (row := features.get(track.id)) is not None
        and row.analysis_version == ANALYSIS_VERSION
        and row.embedding is not None
    }

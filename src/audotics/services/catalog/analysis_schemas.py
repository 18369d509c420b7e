"""Shapes of the catalog's content-analysis data: stored features and similar tracks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from audotics.services.catalog.schemas import TrackSummary, UtcDatetime


class AnalysisWindow(BaseModel):
    start_s: float = Field(description="Start of the analysed excerpt, seconds into the file")
    end_s: float = Field(description="End of the analysed excerpt")


class TrackFeaturesOut(BaseModel):
    """What content analysis measured on a track's audio (see ml/audio for the methods)."""

    track_id: uuid.UUID
    analysis_version: str
    analysed_at: UtcDatetime
    window: AnalysisWindow | None
    tempo_bpm: float | None
    tempo_confidence: float | None
    key: str | None = Field(description="Pitch class of the tonic: C, C#, ... B")
    mode: str | None = Field(description="major or minor")
    key_confidence: float | None
    loudness_lufs: float | None = Field(description="Integrated loudness; null for silence")
    dynamic_range_db: float | None
    energy: float | None
    danceability: float | None
    acousticness: float | None
    instrumentalness: float | None
    valence: float | None
    onset_rate: float | None = Field(description="Onsets per second")
    spectral_centroid: float | None
    spectral_rolloff: float | None
    spectral_flatness: float | None
    spectral_bandwidth: float | None
    zero_crossing_rate: float | None
    chroma: list[float] | None
    mfcc_mean: list[float] | None
    mfcc_var: list[float] | None
    embedding: list[float] | None = Field(
        default=None, description="Unit-length sound embedding (only with ?embedding=true)"
    )


class SimilarBy(StrEnum):
    """What "similar" means: the sound, the listeners (CF), or a blend of both."""

    sound = "sound"
    cf = "cf"
    hybrid = "hybrid"


class SimilarReason(StrEnum):
    sound = "sound"  # close sound embeddings
    cf = "cf"  # close collaborative-filtering item factors
    knn = "knn"  # played by the same listeners


class SimilarExplanation(BaseModel):
    kind: SimilarReason = Field(description="The signal that contributed most")
    text: str = Field(description="Why this track, in words")


def _sounds_similar() -> SimilarExplanation:
    return SimilarExplanation(kind=SimilarReason.sound, text="Similar sound")


class SimilarTrack(BaseModel):
    track: TrackSummary
    score: float = Field(
        description="Higher is closer: the cosine of the sound embeddings (sound), of the "
        "CF item factors (cf), or a weighted blend of sound, CF and co-listening (hybrid)"
    )
    explanation: SimilarExplanation = Field(default_factory=_sounds_similar)


class SimilarTracks(BaseModel):
    seed_id: uuid.UUID
    by: SimilarBy
    items: list[SimilarTrack]
    offset: int = 0
    limit: int = 10
    next_offset: int | None = Field(
        default=None, description="Offset of the next page, null at the end"
    )
    model_version: str | None = Field(
        default=None, description="The CF model behind cf and hybrid (null: none trained yet)"
    )


@dataclass(frozen=True)
class AnalysisTarget:
    """What an analysis job needs to know about one track's audio."""

    track_id: uuid.UUID
    owner_id: uuid.UUID | None
    audio_key: str
    audio_sha256: str
    audio_uploaded_at: datetime | None
    status: str
    attempts: int
    features_version: str | None

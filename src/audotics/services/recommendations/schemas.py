"""Response shapes of the recommendations service."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from audotics.services.catalog.schemas import TrackSummary


class ExplanationKind(StrEnum):
    cf = "cf"
    item = "item"
    knn = "knn"
    graph = "graph"  # the RP3beta item graph: fans of a track you play play this
    content = "content"
    popularity = "popularity"
    fresh = "fresh"
    social = "social"


class ExplanationOut(BaseModel):
    kind: ExplanationKind = Field(description="The signal that contributed most")
    text: str = Field(description="Why this track, in words")
    seed_track_id: uuid.UUID | None = Field(
        default=None, description="The track of your history behind it, when there is one"
    )
    seed_username: str | None = Field(
        default=None, description="For kind social: the person you follow behind it"
    )


class RecommendedTrack(BaseModel):
    track: TrackSummary
    score: float = Field(description="Blended score; higher is better (comparable within a list)")
    explanation: ExplanationOut


class Recommendations(BaseModel):
    items: list[RecommendedTrack]
    model_version: str | None = Field(
        description="The collaborative-filtering model used (null before the first training)"
    )
    offset: int
    limit: int
    next_offset: int | None = Field(description="Offset of the next page, null at the end")

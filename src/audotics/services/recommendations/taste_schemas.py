"""Response models of the recommendation service."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from audotics.fields import UtcDatetime
from audotics.services.catalog.schemas import ArtistRef, GenreOut


class TrackRef(BaseModel):
    id: uuid.UUID
    title: str
    artist: ArtistRef


class WeightedArtist(BaseModel):
    artist: ArtistRef
    weight: float = Field(description="Share of the engagement mass (all artists sum to 1)")


class WeightedGenre(BaseModel):
    genre: GenreOut
    weight: float = Field(description="Share of the engagement mass (all genres sum to 1)")


class WeightedTrack(BaseModel):
    track: TrackRef
    engagement: float = Field(description="Net engagement: play 1, complete 2, like 3, skip -1")


class FeatureSummary(BaseModel):
    name: str = Field(examples=["tempo_bpm"])
    mean: float
    std: float
    quantiles: dict[str, float] = Field(description='Weighted quantiles keyed "p10" ... "p90"')
    tracks: int = Field(description="Engaged tracks with a known value")


class ListeningCounts(BaseModel):
    plays: int = Field(description="play and complete events")
    events: int
    distinct_tracks: int
    distinct_artists: int
    first_listen: UtcDatetime | None
    last_listen: UtcDatetime | None


class Diversity(BaseModel):
    artist_entropy: float = Field(description="Shannon entropy (nats) of the artist weights")
    genre_entropy: float = Field(description="Shannon entropy (nats) of the genre weights")
    sound_spread: float | None = Field(
        description="Mean pairwise cosine distance of the engaged tracks' sound embeddings"
    )


class CollaborativeTaste(BaseModel):
    model_version: str = Field(description="The served CF model the factors belong to")
    factors: list[float] = Field(
        description="Your ALS user vector, folded in from your listens on the served model"
    )
    tracks_in_model: int = Field(description="Your positively engaged tracks the model knows")


class TasteProfileOut(BaseModel):
    """What a listener's history says about their taste (empty history: zeros and nulls)."""

    counts: ListeningCounts
    audio_features: list[FeatureSummary]
    sound_centroid: list[float] | None = Field(
        description="Engagement-weighted mean of the 64-d sound embeddings"
    )
    top_artists: list[WeightedArtist]
    top_genres: list[WeightedGenre]
    top_tracks: list[WeightedTrack]
    listening_hours: list[int] = Field(description="Events per UTC hour, 24 bins")
    listening_weekdays: list[int] = Field(description="Events per UTC weekday, Monday first")
    diversity: Diversity
    collaborative: CollaborativeTaste | None = Field(
        default=None, description="CF factors (null until a model is trained and served)"
    )
    novelty: float | None = Field(
        description="Mean self-information (bits) of the engaged tracks given global plays"
    )

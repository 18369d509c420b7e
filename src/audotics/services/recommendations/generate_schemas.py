"""Request and response shapes of generated playlists (radio, daily mix)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audotics.services.catalog.schemas import TrackSummary
from audotics.services.playlists.schemas import PlaylistName, PlaylistOut

GeneratedKind = Literal["radio", "daily_mix"]
MAX_LENGTH = 100


class _Range(BaseModel):
    """Inclusive bounds on one audio feature; give min, max or both (min <= max)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        low, high = self.min, self.max
        if low is None and high is None:
            raise ValueError("give min, max or both")
        if low is not None and high is not None and low > high:
            raise ValueError("min must not be greater than max")
        return self

    def admits(self, value: float | None) -> bool:
        low, high = self.min, self.max
        if value is None:
            return False  # unknown (not analysed): cannot be shown to match
        return (low is None or value >= low) and (high is None or value <= high)


class UnitRange(_Range):
    min: float | None = Field(default=None, ge=0.0, le=1.0)
    max: float | None = Field(default=None, ge=0.0, le=1.0)


class TempoRange(_Range):
    min: float | None = Field(default=None, ge=0.0, le=400.0, description="Beats per minute")
    max: float | None = Field(default=None, ge=0.0, le=400.0, description="Beats per minute")


class LoudnessRange(_Range):
    min: float | None = Field(default=None, ge=-100.0, le=10.0, description="LUFS")
    max: float | None = Field(default=None, ge=-100.0, le=10.0, description="LUFS")


class Mood(BaseModel):
    """Hard filters on the tracks' analysed audio features (a track without analysis never
    matches); at least one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    tempo_bpm: TempoRange | None = None
    energy: UnitRange | None = None
    valence: UnitRange | None = None
    danceability: UnitRange | None = None
    acousticness: UnitRange | None = None
    instrumentalness: UnitRange | None = None
    loudness_lufs: LoudnessRange | None = None

    @model_validator(mode="after")
    def _something(self) -> Mood:
        if not self.ranges():
            raise ValueError("give at least one feature range")
        return self

    def ranges(self) -> dict[str, _Range]:
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), _Range)
        }

    def admits(self, features: dict[str, float | None]) -> bool:
        return all(r.admits(features.get(name)) for name, r in self.ranges().items())


class GenerateRequest(BaseModel):
    """A radio needs a seed track, a seed artist or a mood (any combination); a daily mix
    takes no seeds (a mood filters it)."""

    model_config = ConfigDict(extra="forbid")

    kind: GeneratedKind
    seed_track_id: uuid.UUID | None = None
    seed_artist_id: uuid.UUID | None = None
    mood: Mood | None = None
    length: int = Field(default=25, ge=1, le=MAX_LENGTH, description="Tracks wanted")
    save: bool = Field(default=False, description="Also save it as a playlist of yours")
    name: PlaylistName | None = Field(
        default=None, description="Name of the saved playlist (a default is made up)"
    )
    is_public: bool = Field(default=False, description="Whether the saved playlist is public")

    @model_validator(mode="after")
    def _seeds(self) -> GenerateRequest:
        seeded = self.seed_track_id is not None or self.seed_artist_id is not None
        if self.kind == "radio" and not seeded and self.mood is None:
            raise ValueError("a radio needs seed_track_id, seed_artist_id or mood")
        if self.kind == "daily_mix" and seeded:
            raise ValueError("a daily mix is made from your history; it takes no seeds")
        return self

    def recipe(self) -> dict[str, object]:
        """What determines the tracks (not how they are saved): the cache key and the
        saved playlist's ``generator``."""
        return self.model_dump(
            mode="json", exclude={"save", "name", "is_public"}, exclude_none=True
        )


class GeneratedReason(StrEnum):
    sound = "sound"  # sounds like the seed
    cf = "cf"  # close to the seed's CF factors, or to your taste
    knn = "knn"  # played by the seed's listeners, or by listeners like you
    graph = "graph"  # often played by the fans of a track you play (RP3beta item graph)
    item = "item"
    content = "content"  # sounds like what you play
    artist = "artist"  # by the seed artist
    favourite = "favourite"  # one you love (daily mix)
    popularity = "popularity"
    fresh = "fresh"
    social = "social"  # played by someone you follow (daily mix)


class GeneratedExplanation(BaseModel):
    kind: GeneratedReason
    text: str
    seed_track_id: uuid.UUID | None = Field(
        default=None, description="The track behind it (the seed, or one of your history)"
    )
    seed_username: str | None = Field(
        default=None, description="For kind social: the person you follow behind it"
    )


class GeneratedTrack(BaseModel):
    track: TrackSummary
    score: float = Field(description="Relevance within this list (higher is better)")
    familiar: bool = Field(description="A track you already love (daily mix)")
    explanation: GeneratedExplanation


class GeneratedPlaylist(BaseModel):
    kind: GeneratedKind
    items: list[GeneratedTrack]
    model_version: str | None = Field(description="The CF model used (null: none trained yet)")
    generated_for: date | None = Field(
        default=None, description="The UTC day a daily mix is for (the same all day)"
    )
    playlist: PlaylistOut | None = Field(
        default=None, description="The saved playlist (with save=true)"
    )

"""Shapes of the search service. ``SearchDocument`` is its contract with the catalog."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator


class DocumentKind(StrEnum):
    track = "track"
    artist = "artist"
    album = "album"


class SearchDocument(BaseModel):
    """One searchable thing, pushed by the catalog whenever it changes.

    ``owner_id`` is None for the public catalog; a listener's private upload
    carries their id and is only found by them.
    """

    kind: DocumentKind
    ref_id: uuid.UUID
    title: str = Field(description="Track title, artist name or album title")
    subtitle: str = Field(default="", description="Artist name (tracks, albums)")
    keywords: str = Field(default="", description="Album title, genres and other searchable text")
    owner_id: uuid.UUID | None = None
    popularity: float = Field(default=0.0, ge=0.0, description="Tie-breaker, higher first")
    payload: dict[str, Any] = Field(default_factory=dict, description="Display data returned as-is")
    # Audio features (filled by content analysis; None until analysed).
    tempo_bpm: float | None = None
    key: str | None = None
    mode: str | None = None
    energy: float | None = None
    danceability: float | None = None
    valence: float | None = None


MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000
MAX_QUERY_LENGTH = 500

# Pitch classes as content analysis names them; flats are accepted and stored as sharps.
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#", "CB": "B", "FB": "E"}
_SHARPS_BEYOND = {"E#": "F", "B#": "C"}


def canonical_key(value: str) -> str:
    """``"db"`` -> ``"C#"``, ``"f#"`` -> ``"F#"``; ValueError for anything else."""
    upper = value.strip().upper()
    name = _FLATS.get(upper) or _SHARPS_BEYOND.get(upper) or upper
    if name not in PITCH_CLASSES:
        raise ValueError(f"key must be a pitch class such as C, F# or Bb, not {value!r}")
    return name


def canonical_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in ("major", "minor"):
        raise ValueError("mode must be 'major' or 'minor'")
    return mode


Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Tempo = Annotated[float, Field(ge=0.0, le=1000.0)]


class SearchFilters(BaseModel):
    """Structured filters; combinable with text, or used alone to browse by popularity."""

    kinds: list[DocumentKind] | None = Field(
        default=None, description="Only these kinds (comma-separated in a query string)"
    )
    tempo_min: Tempo | None = Field(default=None, description="Minimum tempo, BPM")
    tempo_max: Tempo | None = Field(default=None, description="Maximum tempo, BPM")
    key: str | None = Field(default=None, description="Pitch class, e.g. A, F# or Bb")
    mode: str | None = Field(default=None, description="major or minor")
    energy_min: Unit | None = Field(default=None, description="0-1")
    energy_max: Unit | None = Field(default=None, description="0-1")
    danceability_min: Unit | None = Field(default=None, description="0-1")
    danceability_max: Unit | None = Field(default=None, description="0-1")
    valence_min: Unit | None = Field(default=None, description="0-1")
    valence_max: Unit | None = Field(default=None, description="0-1")
    genre: str | None = Field(
        default=None, min_length=1, max_length=100, description="Words matched in keywords"
    )

    @field_validator("kinds", mode="before")
    @classmethod
    def _split_kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple | set | frozenset):
            parts = [
                p.strip() for v in value for p in (v.split(",") if isinstance(v, str) else [v])
            ]
            return [p for p in parts if p != ""] or None
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if value is None else canonical_key(value)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        return None if value is None else canonical_mode(value)

    @field_validator("tempo_max", "energy_max", "danceability_max", "valence_max")
    @classmethod
    def _not_below_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        # A field validator, not a model one, so the error names the field.
        low_name = str(info.field_name).removesuffix("_max") + "_min"
        low = info.data.get(low_name)
        if value is not None and low is not None and value < low:
            raise ValueError(f"must not be below {low_name} ({low})")
        return value

    @property
    def any_set(self) -> bool:
        return any(getattr(self, name) is not None for name in SearchFilters.model_fields)


class SearchQuery(SearchFilters):
    """What to look for. An empty ``text`` with filters browses by popularity."""

    text: str = Field(default="", max_length=MAX_QUERY_LENGTH, description="What the user typed")
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class SearchHit(BaseModel):
    kind: DocumentKind
    id: uuid.UUID = Field(description="The catalog id (the document's ref_id)")
    title: str
    subtitle: str
    score: float = Field(
        description="Match tier (4 phrase, 3 all words, 2 prefix, 1 typo, 0 browse) plus "
        "relevance in [0, 1); compare within one response only. Past each tier's 100 most "
        "popular matches, results follow by popularity with the broadest tier's score."
    )
    payload: dict[str, Any]


class SearchResults(BaseModel):
    hits: list[SearchHit]
    total: int

"""Request and response shapes of the catalog service."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from audotics.fields import NOT_NULL, UtcDatetime, single_line
from audotics.services.catalog.naming import GENRE_MAX, NAME_MAX

ISRC_PATTERN = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")


def _reject_nulls(model: BaseModel, *fields: str) -> None:
    """PATCH bodies: a field left out means "keep", but these may not be cleared."""
    for field in fields:
        if field in model.model_fields_set and getattr(model, field) is None:
            raise ValueError(f"{field} cannot be null")


def _normalize_isrc(value: str) -> str:
    compact = value.replace("-", "").replace(" ", "").upper()
    if not ISRC_PATTERN.fullmatch(compact):
        raise ValueError("must be an ISRC: CC-XXX-YY-NNNNN (country, registrant, year, number)")
    return compact


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(single_line),
]
GenreName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=GENRE_MAX),
    AfterValidator(single_line),
]
Isrc = Annotated[str, StringConstraints(max_length=20), AfterValidator(_normalize_isrc)]
ReleaseYear = Annotated[int, Field(ge=1000, le=2999)]
Genres = Annotated[list[GenreName], Field(max_length=20)]


class Visibility(StrEnum):
    public = "public"
    private = "private"


class TrackScope(StrEnum):
    """Which tracks a list shows: everything visible, the public catalog, or my uploads."""

    all = "all"
    public = "public"
    mine = "mine"


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as the catalog needs it (the gateway builds it from the identity)."""

    user_id: uuid.UUID
    can_curate: bool


# --- references ------------------------------------------------------------------------


class ArtistRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


class AlbumRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str


class GenreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


# --- artists ---------------------------------------------------------------------------


class ArtistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    genres: Genres = []


class ArtistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Name | None, NOT_NULL] = None
    genres: Annotated[Genres | None, NOT_NULL] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ArtistUpdate:
        _reject_nulls(self, "name", "genres")
        return self


class ArtistOut(BaseModel):
    id: uuid.UUID
    name: str
    genres: list[str]
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- albums ----------------------------------------------------------------------------


class AlbumCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Name
    artist_id: uuid.UUID | None = None
    artist: Name | None = Field(default=None, description="Artist name, found or created")
    release_year: ReleaseYear | None = None

    @model_validator(mode="after")
    def _one_artist(self) -> AlbumCreate:
        if (self.artist_id is None) == (self.artist is None):
            raise ValueError("give exactly one of artist_id or artist")
        return self


class AlbumUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[Name | None, NOT_NULL] = None
    artist_id: Annotated[uuid.UUID | None, NOT_NULL] = None
    release_year: ReleaseYear | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> AlbumUpdate:
        _reject_nulls(self, "title", "artist_id")
        return self


class AlbumOut(BaseModel):
    id: uuid.UUID
    title: str
    artist: ArtistRef
    release_year: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- tracks ----------------------------------------------------------------------------


class TrackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Name
    artist_id: uuid.UUID | None = None
    artist: Name | None = Field(default=None, description="Artist name, found or created")
    album_id: uuid.UUID | None = None
    album: Name | None = Field(
        default=None, description="Album title under the track's artist, found or created"
    )
    duration_s: float | None = Field(default=None, gt=0, le=24 * 3600)
    track_number: int | None = Field(default=None, ge=1, le=9999)
    isrc: Isrc | None = None
    genres: Genres = []
    visibility: Visibility | None = Field(
        default=None,
        description="public (curators only) or private (your own library). "
        "Default: public for curators, private for listeners.",
    )

    @model_validator(mode="after")
    def _references(self) -> TrackCreate:
        if (self.artist_id is None) == (self.artist is None):
            raise ValueError("give exactly one of artist_id or artist")
        if self.album_id is not None and self.album is not None:
            raise ValueError("give at most one of album_id or album")
        return self


class TrackUpdate(BaseModel):
    """Fields left out stay as they are; ``album_id: null`` takes the track off its album."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[Name | None, NOT_NULL] = None
    artist_id: Annotated[uuid.UUID | None, NOT_NULL] = None
    artist: Annotated[Name | None, NOT_NULL] = None
    album_id: uuid.UUID | None = None
    album: Name | None = None
    duration_s: float | None = Field(default=None, gt=0, le=24 * 3600)
    track_number: int | None = Field(default=None, ge=1, le=9999)
    isrc: Isrc | None = None
    genres: Annotated[Genres | None, NOT_NULL] = None

    @model_validator(mode="after")
    def _references(self) -> TrackUpdate:
        if self.artist_id is not None and self.artist is not None:
            raise ValueError("give at most one of artist_id or artist")
        if self.album_id is not None and self.album is not None:
            raise ValueError("give at most one of album_id or album")
        _reject_nulls(self, "title", "artist_id", "artist", "genres")
        return self


class AudioOut(BaseModel):
    content_type: str
    size: int
    sha256: str
    format: str | None
    sample_rate: int | None
    channels: int | None
    uploaded_at: UtcDatetime


class TrackOut(BaseModel):
    id: uuid.UUID
    title: str
    artist: ArtistRef
    album: AlbumRef | None
    duration_s: float | None
    track_number: int | None
    isrc: str | None
    genres: list[str]
    visibility: Visibility
    owner_id: uuid.UUID | None
    audio: AudioOut | None
    analysis_status: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class TrackSummary(BaseModel):
    """The short form other services show (playlists, recommendations)."""

    id: uuid.UUID
    title: str
    duration_s: float | None
    artist: ArtistRef
    album: AlbumRef | None
    genres: list[str]
    has_audio: bool


class StreamUrl(BaseModel):
    url: str = Field(description="Absolute URL an <audio> element can play without headers")
    expires_at: UtcDatetime


class UserCatalogExport(BaseModel):
    private_tracks: list[TrackOut]

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

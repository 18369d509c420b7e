"""Request and response shapes of the analytics service, and the plain records importers pass."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from audotics.fields import UtcDatetime, single_line
from audotics.services.catalog.schemas import TrackSummary

MAX_LISTENS_PER_REQUEST = 1000
# Clocks drift and naive local times get sent as UTC: up to a day ahead is accepted.
MAX_FUTURE_SKEW = timedelta(days=1)
EARLIEST_LISTEN = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PLAY_DURATION_S = 24 * 3600.0
CLIENT_KEY_MAX_LENGTH = 128
MAX_TOP = 50


class ListenEvent(StrEnum):
    play = "play"
    skip = "skip"
    like = "like"
    unlike = "unlike"
    complete = "complete"


class ItemKind(StrEnum):
    track = "track"
    artist = "artist"


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already.

    ValueError when the instant is outside the years 1-9999 in UTC.
    """
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


def check_occurred_at(moment: datetime, now: datetime | None = None) -> datetime:
    """``moment`` in UTC; ValueError when it is before 1970 or more than a day ahead."""
    moment = to_utc(moment)
    latest = (now or datetime.now(UTC)) + MAX_FUTURE_SKEW
    if moment < EARLIEST_LISTEN:
        raise ValueError("must not be before 1970-01-01T00:00:00Z")
    if moment > latest:
        raise ValueError("must not be in the future (at most one day of clock skew is accepted)")
    return moment


ClientKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CLIENT_KEY_MAX_LENGTH),
    AfterValidator(single_line),
]


class ListenIn(BaseModel):
    """One listening event."""

    model_config = ConfigDict(extra="forbid")

    track_id: uuid.UUID
    event: ListenEvent
    occurred_at: Annotated[datetime, AfterValidator(check_occurred_at)] = Field(
        description="ISO 8601 (an offset is recommended; none means UTC) or epoch seconds; "
        "not before 1970 and at most a day ahead"
    )
    play_duration_s: float | None = Field(
        default=None, ge=0, le=MAX_PLAY_DURATION_S, allow_inf_nan=False
    )
    client_key: ClientKey | None = Field(
        default=None,
        description="Makes the listen idempotent; without it the key is derived from "
        "(track_id, event, occurred_at)",
    )


class ListenBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listens: list[ListenIn] = Field(min_length=1)

    @field_validator("listens", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_LISTENS_PER_REQUEST:
            raise ValueError(
                f"at most {MAX_LISTENS_PER_REQUEST} listens per request, got {len(value)}: "
                "split the batch"
            )
        return value


def _body_kind(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "listens" in value else "single"


ListenSubmission = Annotated[
    Annotated[ListenIn, Tag("single")] | Annotated[ListenBatch, Tag("batch")],
    Discriminator(_body_kind),
]


class ListensRecorded(BaseModel):
    received: int = Field(description="Listens in the request")
    new: int = Field(description="Listens stored by this request")
    duplicates: int = Field(description="Listens already stored (same key), left unchanged")


class ListenOut(BaseModel):
    id: uuid.UUID
    track_id: uuid.UUID
    event: ListenEvent
    occurred_at: UtcDatetime
    play_duration_s: float | None
    source: str = Field(description='"api", or "import:<format>"')
    client_key: str | None
    recorded_at: UtcDatetime
    track: TrackSummary | None = Field(description="None when the track was deleted or hidden")


class ListenPage(BaseModel):
    items: list[ListenOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page")


class TopTrack(BaseModel):
    track_id: uuid.UUID
    track: TrackSummary | None
    plays: int
    completes: int
    skips: int
    likes: int
    last_at: UtcDatetime | None


class TopArtist(BaseModel):
    artist_id: uuid.UUID
    name: str | None = Field(description="None when the artist no longer exists")
    plays: int
    completes: int
    skips: int
    likes: int
    last_at: UtcDatetime | None


class ListeningStats(BaseModel):
    listens: int = Field(description="Events in the history")
    events: dict[ListenEvent, int] = Field(description="Events per kind, zeros included")
    distinct_tracks: int
    first_at: UtcDatetime | None
    last_at: UtcDatetime | None
    hours: list[int] = Field(description="Plays and completions per hour of the day (UTC), 0-23")
    top_tracks: list[TopTrack] = Field(description="By plays, all time, imports included")
    top_artists: list[TopArtist] = Field(description="By plays, all time, imports included")


# --- plain records for importers and other services -----------------------------------------


@dataclass(frozen=True, slots=True)
class NewListen:
    """A listen to store: ``occurred_at`` is aware UTC, ``dedup_key`` from :func:`dedup_key`."""

    user_id: uuid.UUID
    track_id: uuid.UUID
    artist_id: uuid.UUID | None
    event: ListenEvent
    occurred_at: datetime
    play_duration_s: float | None
    source: str
    dedup_key: str


@dataclass(frozen=True, slots=True)
class NewPlayCount:
    """Plays without timestamps (e.g. Last.fm HetRec artist play counts)."""

    user_id: uuid.UUID
    item_kind: ItemKind
    item_id: uuid.UUID
    plays: int
    source: str


@dataclass(frozen=True, slots=True)
class Interaction:
    """One row of the collaborative-filtering input."""

    user_id: uuid.UUID
    item_kind: ItemKind
    item_id: uuid.UUID
    plays: int
    completes: int
    skips: int
    likes: int
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredListens:
    """What a store call did: ``new`` of ``received`` were inserted, per user in ``new_by_user``."""

    received: int
    new: int
    new_by_user: dict[uuid.UUID, int]
    tracks_by_user: dict[uuid.UUID, list[uuid.UUID]]


@dataclass(frozen=True, slots=True)
class StoredCounts:
    """Play-count totals ``written`` (new or changed) and ``unchanged``."""

    written: int
    unchanged: int


MAX_FOLLOWING = 1000


class FollowedUser(BaseModel):
    """Someone in your social graph, as anyone signed in may see them."""

    id: uuid.UUID
    username: str
    display_name: str
    since: UtcDatetime = Field(description="When the follow started")


class FollowList(BaseModel):
    items: list[FollowedUser]
    total: int

"""Request and response shapes of the playlist service."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from audotics.fields import NOT_NULL, UtcDatetime, multi_line, single_line
from audotics.fields import as_utc as as_utc  # re-exported for the service
from audotics.services.catalog.schemas import TrackSummary
from audotics.services.playlists.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

MAX_ITEMS_PER_PLAYLIST = 10_000
MAX_TRACKS_PER_REQUEST = 500
MAX_COLLABORATORS = 100


PlaylistName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH),
    AfterValidator(single_line),
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH), AfterValidator(multi_line)
]
PlaylistKind = Literal["manual", "generated"]


class Access(StrEnum):
    """What the caller may do with a playlist."""

    owner = "owner"  # everything
    collaborator = "collaborator"  # read, add/remove/move entries
    reader = "reader"  # read a public playlist


class PlaylistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlaylistName
    description: Description = ""
    is_public: bool = False


class PlaylistUpdate(BaseModel):
    """Fields to change; at least one. Only the owner may change them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    name: Annotated[PlaylistName | None, NOT_NULL] = None
    description: Annotated[Description | None, NOT_NULL] = None
    is_public: Annotated[bool | None, NOT_NULL] = None

    @model_validator(mode="after")
    def _something_to_change(self) -> PlaylistUpdate:
        given = self.model_fields_set
        if not given:
            raise ValueError("send at least one of name, description, is_public")
        for field in given:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class Owner(BaseModel):
    id: uuid.UUID
    username: str | None = Field(description="None once the account is gone")


class PlaylistOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    is_public: bool
    kind: PlaylistKind
    generator: dict[str, Any] | None = Field(description="How a generated playlist was made")
    owner: Owner
    access: Access = Field(description="The caller's rights on this playlist")
    version: int = Field(description="Send as If-Match to make a change conditional")
    item_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ItemOut(BaseModel):
    id: uuid.UUID = Field(description="Addresses this entry; a track may appear more than once")
    track_id: uuid.UUID
    position: int = Field(description="0-based index in the playlist")
    added_by: uuid.UUID | None
    added_at: UtcDatetime
    available: bool = Field(description="False when the track was deleted or is hidden from you")
    track: TrackSummary | None = Field(description="None when unavailable")


class AddItems(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_TRACKS_PER_REQUEST)
    position: int | None = Field(
        default=None,
        ge=0,
        description="Index of the first new entry; omitted or past the end appends",
    )


class ItemsAdded(BaseModel):
    items: list[ItemOut]
    version: int


class MoveItem(BaseModel):
    """Move one entry: give exactly one of before_item_id, after_item_id, position."""

    model_config = ConfigDict(extra="forbid")

    item_id: uuid.UUID
    before_item_id: uuid.UUID | None = None
    after_item_id: uuid.UUID | None = None
    position: int | None = Field(
        default=None, ge=0, description="Index the entry ends up at; past the end means last"
    )

    @model_validator(mode="after")
    def _exactly_one_target(self) -> MoveItem:
        targets = [self.before_item_id, self.after_item_id, self.position]
        if sum(target is not None for target in targets) != 1:
            raise ValueError("give exactly one of before_item_id, after_item_id, position")
        if self.item_id in (self.before_item_id, self.after_item_id):
            raise ValueError("an entry cannot be placed relative to itself")
        return self


class ItemMoved(BaseModel):
    item: ItemOut
    version: int


class CollaboratorOut(BaseModel):
    user_id: uuid.UUID
    username: str | None
    added_at: UtcDatetime

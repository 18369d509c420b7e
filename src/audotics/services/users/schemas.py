"""Request and response shapes of the user service."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

USERNAME_PATTERN = r"^[a-z0-9_-]{3,32}$"

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]


class Role(StrEnum):
    listener = "listener"
    curator = "curator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"listener": 0, "curator": 1, "admin": 2}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    username: Username = Field(description="3-32 of a-z 0-9 _ -; names the user in public URLs")
    password: str = Field(min_length=1, max_length=1024)
    display_name: str | None = Field(default=None, max_length=100)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320, description="Email or username")
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Access-token lifetime in seconds")


class UserPublic(BaseModel):
    """What anyone signed in may see of a user."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    bio: str
    created_at: datetime


class UserPrivate(UserPublic):
    """What the user sees of themselves."""

    email: str
    role: Role
    preferences: dict[str, Any]
    updated_at: datetime


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=100)
    bio: str | None = Field(default=None, max_length=1000)
    email: EmailStr | None = None
    preferences: dict[str, Any] | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key; shown only once")


class Identity(BaseModel):
    """The authenticated caller, as the gateway needs it."""

    user_id: uuid.UUID
    username: str
    role: Role
    via: str  # "jwt" or "api_key"
    api_key_id: uuid.UUID | None = None

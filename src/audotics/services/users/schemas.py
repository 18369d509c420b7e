"""Request and response shapes of the user service."""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from audotics.fields import NOT_NULL, MultiLineText, StorableText, UtcDatetime, single_line

USERNAME_PATTERN = r"^[a-z0-9_-]{3,32}$"

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]

PREFERENCES_MAX_BYTES = 16 * 1024
PREFERENCES_MAX_DEPTH = 8
MAX_ACTIVE_API_KEYS = 25


# Display text is trimmed, so "   " is as empty as "" (length limits apply after trimming).
SingleLineText = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(single_line)
]


def _json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _bounded_preferences(value: dict[str, Any]) -> dict[str, Any]:
    if _json_depth(value) > PREFERENCES_MAX_DEPTH:
        raise ValueError(f"must nest at most {PREFERENCES_MAX_DEPTH} levels deep")
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise ValueError("must be plain JSON (finite numbers, valid Unicode)") from None
    if len(encoded) > PREFERENCES_MAX_BYTES:
        raise ValueError(f"must be at most {PREFERENCES_MAX_BYTES} bytes as JSON")
    return value


Preferences = Annotated[dict[str, Any], AfterValidator(_bounded_preferences)]


class Role(StrEnum):
    listener = "listener"
    curator = "curator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"listener": 0, "curator": 1, "admin": 2}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class _NoNulls(BaseModel):
    """A PATCH body: omitted fields stay as they are; an explicit null is an error."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


# --- sign-up and tokens -------------------------------------------------------------------


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    username: Username = Field(description="3-32 of a-z 0-9 _ -; names the user in public URLs")
    password: StorableText = Field(min_length=1, max_length=1024)
    display_name: SingleLineText | None = Field(default=None, max_length=100)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: StorableText = Field(min_length=1, max_length=320, description="Email or username")
    password: StorableText = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: StorableText = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Access-token lifetime in seconds")


# --- profile ------------------------------------------------------------------------------


class UserPublic(BaseModel):
    """What anyone signed in may see of a user."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    bio: str
    created_at: UtcDatetime


class UserPrivate(UserPublic):
    """What the user sees of themselves."""

    email: str
    role: Role
    preferences: dict[str, Any]
    updated_at: UtcDatetime


class ProfileUpdate(_NoNulls):
    display_name: Annotated[SingleLineText | None, NOT_NULL] = Field(
        default=None, min_length=1, max_length=100
    )
    bio: Annotated[MultiLineText | None, NOT_NULL] = Field(default=None, max_length=1000)
    email: Annotated[EmailStr | None, NOT_NULL] = None
    preferences: Annotated[Preferences | None, NOT_NULL] = Field(
        default=None,
        description=f"Replaces the stored object; at most {PREFERENCES_MAX_BYTES} bytes of JSON",
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: StorableText = Field(min_length=1, max_length=1024)
    new_password: StorableText = Field(min_length=1, max_length=1024)


class AccountDeletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: StorableText = Field(min_length=1, max_length=1024, description="Confirms deletion")


# --- API keys -----------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SingleLineText = Field(min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key; shown only once")


# --- administration -----------------------------------------------------------------------


class UserAdminView(BaseModel):
    """What an administrator sees in the user list (no preferences, no credentials)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class AdminUserUpdate(_NoNulls):
    role: Annotated[Role | None, NOT_NULL] = None
    is_active: Annotated[bool | None, NOT_NULL] = None


# --- authentication -----------------------------------------------------------------------


class Identity(BaseModel):
    """The authenticated caller, as the gateway needs it."""

    user_id: uuid.UUID
    username: str
    role: Role
    via: str  # "jwt" or "api_key"
    api_key_id: uuid.UUID | None = None

"""The user service's domain logic: accounts, credentials, tokens and the user's personal data.

Profile and password changes live in ``account.py``, API keys in ``api_keys.py``
and administration in ``admin.py``; this module is what other services and the
composition roots call.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.config import Settings
from audotics.problems import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from audotics.services.users import repository, security
from audotics.services.users.models import RefreshToken, User
from audotics.services.users.schemas import (
    USERNAME_PATTERN,
    Identity,
    Role,
    SignUp,
    TokenPair,
    UserPublic,
)


@dataclass(frozen=True)
class AuthConfig:
    """What authentication needs from the settings, resolved once at start-up."""

    secret: str
    access_ttl_s: int
    refresh_ttl_s: int
    password_min_length: int
    hasher: PasswordHasher

    @classmethod
    def from_settings(cls, settings: Settings, secret: str) -> AuthConfig:
        return cls(
            secret=secret,
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            password_min_length=settings.password_min_length,
            hasher=security.password_hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- accounts ---------------------------------------------------------------------------


async def sign_up(
    session: AsyncSession, config: AuthConfig, data: SignUp, role: Role = Role.listener
) -> User:
    email = str(data.email).strip().lower()
    username = data.username.lower()
    security.check_password_strength(
        data.password,
        min_length=config.password_min_length,
        avoid=(username, email.split("@")[0]),
    )
    email_taken, username_taken = await repository.email_or_username_taken(session, email, username)
    if username_taken:
        raise Conflict(f"The username {username!r} is taken.", title="Username taken")
    if email_taken:
        raise Conflict("An account with this email already exists.", title="Email taken")
    password_hash = await asyncio.to_thread(security.hash_password, config.hasher, data.password)
    user = User(
        email=email,
        username=username,
        display_name=data.display_name or username,
        bio="",
        password_hash=password_hash,
        role=role.value,
        is_active=True,
        token_version=0,
        preferences={},
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        # Two sign-ups raced past the check above; the unique index decided.
        raise Conflict("The username or email is taken.", title="Account exists") from None
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.user_by_id(session, user_id)
    if user is None or not user.is_active:
        raise NotFound("No such user.")
    return user


async def get_user_by_username(session: AsyncSession, username: str) -> User:
    # A name that cannot be a username names nobody. Checked before querying: PostgreSQL
    # cannot even compare text holding NUL, which a URL path delivers as %00.
    if not re.fullmatch(USERNAME_PATTERN, username.lower()):
        raise NotFound(f"No user named {username!r}.")
    user = await repository.user_by_username(session, username)
    if user is None or not user.is_active:
        raise NotFound(f"No user named {username!r}.")
    return user


async def public_users(
    session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, UserPublic]:
    """The public profiles of the active accounts among ``user_ids`` (others left out)."""
    found = await repository.users_by_ids(session, sorted(set(user_ids), key=str))
    return {user.id: UserPublic.model_validate(user) for user in found if user.is_active}


async def ensure_user(
    session: AsyncSession,
    config: AuthConfig,
    email: str,
    username: str,
    password: str,
    role: Role = Role.listener,
) -> User:
    """Create the account, or bring an existing one to exactly these values (idempotent).

    Found by username; its email, role and password are set and it is re-activated.
    A password change revokes the account's sign-ins. Raises Unprocessable for an
    invalid email, username or weak password, and Conflict when the email belongs
    to another account.
    """
    try:
        data = SignUp(email=email, username=username.lower(), password=password)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise Unprocessable(f"Invalid account data: {fields}.") from None
    user = await repository.user_by_username(session, data.username)
    if user is None:
        return await sign_up(session, config, data, role)
    email = str(data.email).strip().lower()
    owner_of_email = await repository.user_by_email(session, email)
    if owner_of_email is not None and owner_of_email.id != user.id:
        raise Conflict("An account with this email already exists.", title="Email taken")
    matches = await asyncio.to_thread(
        security.verify_password, config.hasher, user.password_hash, password
    )
    if not matches:
        security.check_password_strength(
            password,
            min_length=config.password_min_length,
            avoid=(user.username, email.split("@")[0]),
        )
        user.password_hash = await asyncio.to_thread(
            security.hash_password, config.hasher, password
        )
    if not matches or user.role != role.value or not user.is_active:
        user.token_version += 1  # credentials or rights changed: old tokens stop working
        await repository.revoke_all_refresh_tokens(session, user.id, _now())
    user.email, user.role, user.is_active = email, role.value, True
    await session.flush()
    return user


async def verify_current_password(config: AuthConfig, user: User, password: str) -> None:
    """Re-authentication for sensitive changes; a wrong password is 403, not 401.

    401 would tell the client its token is bad, and it is not.
    """
    ok = await asyncio.to_thread(
        security.verify_password, config.hasher, user.password_hash, password
    )
    if not ok:
        raise Forbidden("The password is wrong.", title="Wrong password")


async def set_role(session: AsyncSession, user_id: uuid.UUID, role: Role) -> User:
    user = await get_user(session, user_id)
    user.role = role.value
    user.token_version += 1  # tokens carrying the old role stop working
    await session.flush()
    return user


async def authenticate_password(
    session: AsyncSession, config: AuthConfig, login: str, password: str
) -> User:
    user = await repository.user_by_login(session, login)
    stored = user.password_hash if user else security.dummy_hash(config.hasher)
    ok = await asyncio.to_thread(security.verify_password, config.hasher, stored, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("Wrong email/username or password.", title="Sign-in failed")
    if config.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(
            security.hash_password, config.hasher, password
        )
    return user


# --- tokens -----------------------------------------------------------------------------


async def issue_tokens(
    session: AsyncSession, config: AuthConfig, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    access, _, _ = security.encode_token(
        config.secret,
        user_id=user.id,
        token_type="access",
        ttl_s=config.access_ttl_s,
        extra={"role": user.role, "ver": user.token_version, "usr": user.username},
    )
    family = family_id or uuid.uuid4()
    refresh, jti, expires = security.encode_token(
        config.secret,
        user_id=user.id,
        token_type="refresh",
        ttl_s=config.refresh_ttl_s,
        extra={"fam": str(family)},
    )
    session.add(RefreshToken(id=jti, user_id=user.id, family_id=family, expires_at=expires))
    await session.flush()
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=config.access_ttl_s)


async def log_in(session: AsyncSession, config: AuthConfig, login: str, password: str) -> TokenPair:
    user = await authenticate_password(session, config, login, password)
    return await issue_tokens(session, config, user)


class RefreshReuse(Unauthorized):
    """A rotated-out refresh token came back: the whole sign-in is revoked."""


async def rotate_refresh_token(
    session: AsyncSession, config: AuthConfig, refresh_token: str
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one can never be used again.

    Presenting an already-rotated token means it leaked (or a client raced
    itself): every token of that sign-in is revoked, as RFC 9700 recommends.
    """
    claims = security.decode_token(config.secret, refresh_token, "refresh")
    row = await repository.refresh_token(session, claims.jti)
    if row is None or row.user_id != claims.user_id:
        raise Unauthorized("Unknown refresh token.", title="Invalid token")
    now = _now()
    if row.revoked_at is not None:
        await repository.revoke_family(session, row.family_id, now)
        await session.commit()  # the revocation must survive the error response
        raise RefreshReuse(
            "This refresh token was already used or revoked; sign in again.",
            title="Refresh token reused",
        )
    if _aware(row.expires_at) <= now:
        raise Unauthorized("Refresh token has expired.", title="Token expired")
    user = await repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer exists.", title="Invalid token")
    pair = await issue_tokens(session, config, user, family_id=row.family_id)
    new_claims = security.decode_token(config.secret, pair.refresh_token, "refresh")
    row.revoked_at = now
    row.replaced_by = new_claims.jti
    await session.flush()
    return pair


async def log_out(session: AsyncSession, config: AuthConfig, refresh_token: str) -> None:
    claims = security.decode_token(config.secret, refresh_token, "refresh")
    row = await repository.refresh_token(session, claims.jti)
    if row is not None and row.user_id == claims.user_id:
        await repository.revoke_family(session, row.family_id, _now())


async def log_out_everywhere(session: AsyncSession, user_id: uuid.UUID) -> None:
    """End every sign-in: access tokens die at once, refresh tokens are revoked."""
    user = await get_user(session, user_id)
    user.token_version += 1
    await repository.revoke_all_refresh_tokens(session, user_id, _now())
    await session.flush()


# --- request authentication -------------------------------------------------------------


async def identify(session: AsyncSession, config: AuthConfig, credential: str) -> Identity:
    """Resolve a bearer credential (access JWT or API key) to the caller."""
    if credential.startswith(security.API_KEY_PREFIX):
        return await _identify_api_key(session, credential)
    claims = security.decode_token(config.secret, credential, "access")
    # The row read fresh on every request (deactivation and revocation apply at once),
    # as plain columns: an ORM User costs more to load than this whole check.
    user = await repository.identity_row(session, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer exists.", title="Invalid token")
    if claims.version != user.token_version:
        raise Unauthorized("Token was revoked; sign in again.", title="Token revoked")
    return Identity(user_id=user.id, username=user.username, role=Role(user.role), via="jwt")


async def _identify_api_key(session: AsyncSession, key: str) -> Identity:
    prefix = security.parse_api_key(key)
    row = await repository.api_key_by_prefix(session, prefix) if prefix else None
    if row is None or not security.api_key_matches(key, row.key_hash):
        raise Unauthorized("Unknown API key.", title="Invalid API key")
    if row.revoked_at is not None:
        raise Unauthorized("This API key was revoked.", title="Invalid API key")
    user = await repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer exists.", title="Invalid API key")
    now = _now()
    # Record use at most once a minute: a write on every request would serialise reads.
    if row.last_used_at is None or (now - _aware(row.last_used_at)).total_seconds() > 60:
        row.last_used_at = now
    return Identity(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        via="api_key",
        api_key_id=row.id,
    )


def require_role(identity: Identity, role: Role) -> None:
    if not identity.role.at_least(role):
        raise Forbidden(f"This needs the {role.value} role.")


# --- personal data (the contract of audotics.services.personal_data) ---------------------


async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Profile, API-key metadata and sign-in history; never a password or key hash."""
    user = await repository.user_by_id(session, user_id)  # deactivated accounts included
    if user is None:
        raise NotFound("No such user.")
    keys = await repository.api_keys_of(session, user_id)
    sign_ins = await repository.refresh_tokens_of(session, user_id)
    return {
        "profile": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "bio": user.bio,
            "role": user.role,
            "preferences": user.preferences,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        },
        "api_keys": [
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
            }
            for key in keys
        ],
        "sign_ins": [
            {
                "issued_at": token.issued_at,
                "expires_at": token.expires_at,
                "revoked_at": token.revoked_at,
            }
            for token in sign_ins
        ],
    }


async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the account row with its refresh tokens and API keys; frees the username."""
    user = await repository.user_by_id(session, user_id)
    if user is None:
        return
    await repository.delete_credentials(session, user_id)
    await session.delete(user)
    await session.flush()

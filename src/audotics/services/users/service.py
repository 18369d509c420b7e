"""The user service's domain logic: accounts, credentials and tokens."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.config import Settings
from audotics.problems import Conflict, Forbidden, NotFound, Unauthorized
from audotics.services.users import repository, security
from audotics.services.users.models import RefreshToken, User
from audotics.services.users.schemas import Identity, Role, SignUp, TokenPair


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
    user = await repository.user_by_username(session, username)
    if user is None or not user.is_active:
        raise NotFound(f"No user named {username!r}.")
    return user


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
    user = await get_user(session, user_id)
    user.token_version += 1
    await repository.revoke_all_refresh_tokens(session, user_id, _now())


# --- request authentication -------------------------------------------------------------


async def identify(session: AsyncSession, config: AuthConfig, credential: str) -> Identity:
    """Resolve a bearer credential (access JWT or API key) to the caller."""
    if credential.startswith(security.API_KEY_PREFIX):
        return await _identify_api_key(session, credential)
    claims = security.decode_token(config.secret, credential, "access")
    user = await repository.user_by_id(session, claims.user_id)
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

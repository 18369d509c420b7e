"""Queries over the user service's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.users.models import ApiKey, RefreshToken, User


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


# Built once (every signed-in request runs it); the columns identify() checks, no ORM row.
_IDENTITY = select(User.id, User.username, User.role, User.is_active, User.token_version).where(
    User.id == bindparam("user_id")
)


async def identity_row(
    session: AsyncSession, user_id: uuid.UUID
) -> Row[uuid.UUID, str, str, bool, int] | None:
    """Id, username, role, is_active and token_version of one user (deactivated included)."""
    result = await session.execute(_IDENTITY, {"user_id": user_id})
    return result.one_or_none()


async def users_by_ids(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[User]:
    if not user_ids:
        return []
    result = await session.execute(select(User).where(User.id.in_(user_ids)))
    return list(result.scalars())


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    needle = login.strip().lower()
    result = await session.execute(
        select(User).where(or_(func.lower(User.email) == needle, User.username == needle))
    )
    return result.scalars().first()


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    result = await session.execute(select(User).where(User.username == username.lower()))
    return result.scalar_one_or_none()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    return result.scalars().first()


async def locked_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user row, locked until the transaction ends (PostgreSQL; SQLite writes serialise)."""
    return await session.get(User, user_id, with_for_update=True, populate_existing=True)


async def users_page(
    session: AsyncSession, *, role: str | None, is_active: bool | None, limit: int, offset: int
) -> tuple[list[User], int]:
    conditions = []
    if role is not None:
        conditions.append(User.role == role)
    if is_active is not None:
        conditions.append(User.is_active.is_(is_active))
    total = await session.scalar(select(func.count()).select_from(User).where(*conditions))
    result = await session.execute(
        select(User)
        .where(*conditions)
        .order_by(User.created_at, User.id)
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars()), total or 0


async def active_admin_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Ids of active admins, locked so two admins cannot demote each other at once."""
    result = await session.execute(
        select(User.id)
        .where(User.role == "admin", User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return list(result.scalars())


async def email_or_username_taken(
    session: AsyncSession, email: str, username: str
) -> tuple[bool, bool]:
    result = await session.execute(
        select(User.email, User.username).where(
            or_(func.lower(User.email) == email.lower(), User.username == username)
        )
    )
    rows = result.all()
    return (
        any(row.email.lower() == email.lower() for row in rows),
        any(row.username == username for row in rows),
    )


async def refresh_token(session: AsyncSession, jti: uuid.UUID) -> RefreshToken | None:
    return await session.get(RefreshToken, jti, with_for_update=True)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def revoke_all_refresh_tokens(
    session: AsyncSession, user_id: uuid.UUID, at: datetime
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    result = await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
    return result.scalar_one_or_none()


async def api_keys_of(session: AsyncSession, user_id: uuid.UUID) -> list[ApiKey]:
    result = await session.execute(
        select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return list(result.scalars())


async def api_key_of(session: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """The key only when ``user_id`` owns it: another user's key does not exist for them."""
    result = await session.execute(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def count_active_api_keys(session: AsyncSession, user_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    )
    return count or 0


async def api_keys_page(
    session: AsyncSession, user_id: uuid.UUID, *, include_revoked: bool, limit: int, offset: int
) -> tuple[list[ApiKey], int]:
    conditions = [ApiKey.user_id == user_id]
    if not include_revoked:
        conditions.append(ApiKey.revoked_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(ApiKey).where(*conditions))
    result = await session.execute(
        select(ApiKey)
        .where(*conditions)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars()), total or 0


async def refresh_tokens_of(session: AsyncSession, user_id: uuid.UUID) -> list[RefreshToken]:
    result = await session.execute(
        select(RefreshToken)
        .where(RefreshToken.user_id == user_id)
        .order_by(RefreshToken.issued_at, RefreshToken.id)
    )
    return list(result.scalars())


async def delete_credentials(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Every refresh token and API key of the user (explicit, not left to ON DELETE CASCADE)."""
    await session.execute(delete(ApiKey).where(ApiKey.user_id == user_id))
    await session.execute(delete(RefreshToken).where(RefreshToken.user_id == user_id))

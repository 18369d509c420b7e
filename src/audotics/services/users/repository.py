"""Queries over the user service's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.users.models import ApiKey, RefreshToken, User


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    needle = login.strip().lower()
    result = await session.execute(
        select(User).where(or_(func.lower(User.email) == needle, User.username == needle))
    )
    return result.scalars().first()


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    result = await session.execute(select(User).where(User.username == username.lower()))
    return result.scalar_one_or_none()


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
        select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
    )
    return list(result.scalars())

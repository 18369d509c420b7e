"""API keys for third-party apps: create (shown once), list, revoke."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Conflict, NotFound
from audotics.services.users import repository, security
from audotics.services.users.models import ApiKey
from audotics.services.users.schemas import MAX_ACTIVE_API_KEYS, ApiKeyCreated, ApiKeyOut


async def create_api_key(session: AsyncSession, user_id: uuid.UUID, name: str) -> ApiKeyCreated:
    """A new key; the full key is in the result only, the table keeps its SHA-256."""
    # Lock the owner's row so concurrent requests cannot both pass the cap check.
    if await repository.locked_user(session, user_id) is None:
        raise NotFound("No such user.")
    if await repository.count_active_api_keys(session, user_id) >= MAX_ACTIVE_API_KEYS:
        raise Conflict(
            f"You already have {MAX_ACTIVE_API_KEYS} active API keys; revoke one first.",
            title="Too many API keys",
        )
    key, prefix, key_hash = security.new_api_key()
    row = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=key_hash)
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


async def list_api_keys(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    include_revoked: bool,
    limit: int,
    offset: int,
) -> tuple[list[ApiKeyOut], int]:
    """The user's keys, newest first, as metadata only."""
    rows, total = await repository.api_keys_page(
        session, user_id, include_revoked=include_revoked, limit=limit, offset=offset
    )
    return [ApiKeyOut.model_validate(row) for row in rows], total


async def revoke_api_key(session: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Revoke one of the user's keys; revoking twice is harmless, another user's key is 404."""
    row = await repository.api_key_of(session, user_id, key_id)
    if row is None:
        raise NotFound("No such API key.")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await session.flush()

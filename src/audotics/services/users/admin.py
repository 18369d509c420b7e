"""Administration of accounts: listing them and changing role or active state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Conflict, NotFound
from audotics.services.users import repository
from audotics.services.users.models import User
from audotics.services.users.schemas import AdminUserUpdate, Role


async def list_users(
    session: AsyncSession,
    *,
    role: Role | None,
    is_active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[User], int]:
    """All accounts, deactivated ones included, oldest first."""
    return await repository.users_page(
        session,
        role=role.value if role else None,
        is_active=is_active,
        limit=limit,
        offset=offset,
    )


async def update_user(session: AsyncSession, user_id: uuid.UUID, changes: AdminUserUpdate) -> User:
    """Change role and/or active state; the platform always keeps one active admin."""
    admins = await repository.active_admin_ids(session)
    user = await repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound("No such user.")
    new_role = changes.role.value if changes.role is not None else user.role
    new_active = changes.is_active if changes.is_active is not None else user.is_active
    if (new_role, new_active) == (user.role, user.is_active):
        return user
    remains_admin = new_role == Role.admin.value and new_active
    if user.id in admins and not remains_admin and len(admins) <= 1:
        raise Conflict(
            "This is the last active admin; make someone else admin first.",
            title="Last admin",
        )
    user.role, user.is_active = new_role, new_active
    # Tokens carry the role, and a deactivated account must lose every sign-in.
    user.token_version += 1
    await repository.revoke_all_refresh_tokens(session, user.id, datetime.now(UTC))
    await session.flush()
    return user

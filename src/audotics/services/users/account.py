"""What a signed-in user does to their own account: profile, password, export, deletion."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import Conflict, Unprocessable
from audotics.services.personal_data import PersonalData
from audotics.services.users import repository, security
from audotics.services.users.models import User
from audotics.services.users.schemas import ProfileUpdate, TokenPair
from audotics.services.users.service import (
    AuthConfig,
    get_user,
    issue_tokens,
    verify_current_password,
)

EXPORT_FORMAT = "audotics-personal-data"
EXPORT_VERSION = 1


async def update_profile(session: AsyncSession, user_id: uuid.UUID, changes: ProfileUpdate) -> User:
    """Apply the fields present in ``changes``; preferences are replaced as a whole."""
    user = await get_user(session, user_id)
    given = changes.model_fields_set
    if "email" in given and changes.email is not None:
        email = str(changes.email).strip().lower()
        if email != user.email:
            owner = await repository.user_by_email(session, email)
            if owner is not None and owner.id != user.id:
                raise Conflict("An account with this email already exists.", title="Email taken")
            user.email = email
    if "display_name" in given and changes.display_name is not None:
        user.display_name = changes.display_name
    if "bio" in given and changes.bio is not None:
        user.bio = changes.bio
    if "preferences" in given and changes.preferences is not None:
        user.preferences = changes.preferences
    try:
        await session.flush()
    except IntegrityError:
        # Another request took the email between the check and the write.
        raise Conflict("An account with this email already exists.", title="Email taken") from None
    return user


async def change_password(
    session: AsyncSession,
    config: AuthConfig,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
) -> TokenPair:
    """Set a new password and end every other sign-in; returns a fresh pair for this client."""
    user = await get_user(session, user_id)
    await verify_current_password(config, user, current_password)
    if new_password == current_password:
        raise Unprocessable(
            "The new password must differ from the current one.",
            title="Password unchanged",
            errors=[{"field": "new_password", "message": "must differ from the current one"}],
        )
    security.check_password_strength(
        new_password,
        min_length=config.password_min_length,
        avoid=(user.username, user.email.split("@")[0]),
    )
    user.password_hash = await asyncio.to_thread(
        security.hash_password, config.hasher, new_password
    )
    user.token_version += 1
    await repository.revoke_all_refresh_tokens(session, user.id, datetime.now(UTC))
    # Issued after the revocation, so the new refresh token stays valid.
    return await issue_tokens(session, config, user)


async def export_account(
    session: AsyncSession, personal_data: PersonalData, user_id: uuid.UUID
) -> dict[str, Any]:
    """Everything every service holds about the user, one section per service."""
    user = await get_user(session, user_id)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": datetime.now(UTC),
        "user_id": user.id,
        "username": user.username,
        "sections": await personal_data.export_all(session, user.id),
    }


async def delete_account(
    session: AsyncSession,
    config: AuthConfig,
    personal_data: PersonalData,
    user_id: uuid.UUID,
    password: str,
) -> None:
    """Delete the account and every service's data for it, all in the caller's transaction."""
    user = await get_user(session, user_id)
    await verify_current_password(config, user, password)
    await personal_data.delete_all(session, user.id)

"""Reading what an import stored, through the services' public functions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.config import Settings
from audotics.infra.db import Database
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import Interaction, ItemKind, ListenOut
from audotics.services.users import service as users
from audotics.services.users.schemas import Role
from audotics.services.users.service import AuthConfig
from tests.conftest import TEST_SECRET

PASSWORD = "Correct-Horse-Battery-9"


@asynccontextmanager
async def session_of(settings: Settings) -> AsyncIterator[AsyncSession]:
    database = Database(settings.resolved_database_url)
    try:
        async with database.session() as session:
            yield session
    finally:
        await database.dispose()


async def make_user(settings: Settings, username: str, email: str | None = None) -> uuid.UUID:
    config = AuthConfig.from_settings(settings, TEST_SECRET)
    async with session_of(settings) as session:
        user = await users.ensure_user(
            session, config, email or f"{username}@example.org", username, PASSWORD, Role.listener
        )
        return user.id


async def user_id(settings: Settings, username: str) -> uuid.UUID:
    async with session_of(settings) as session:
        return (await users.get_user_by_username(session, username)).id


async def history(settings: Settings, user: uuid.UUID) -> list[ListenOut]:
    async with session_of(settings) as session:
        page = await analytics.list_listens(session, user, limit=200)
        return page.items


async def interactions(
    settings: Settings, kind: ItemKind, user: uuid.UUID | None = None
) -> list[Interaction]:
    async with session_of(settings) as session:
        return await analytics.interactions(session, kind, user)

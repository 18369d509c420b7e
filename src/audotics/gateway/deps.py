"""FastAPI dependencies that hand infrastructure to route handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.config import Settings
from audotics.infra.cache.base import Cache
from audotics.infra.factory import Infra
from audotics.infra.objects.base import ObjectStore


def get_infra(request: Request) -> Infra:
    infra: Infra = request.app.state.infra
    return infra


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.infra.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the handler returns, rolled back on error."""
    async with get_infra(request).db.session() as session:
        yield session


def get_cache(request: Request) -> Cache:
    return get_infra(request).cache


def get_objects(request: Request) -> ObjectStore:
    return get_infra(request).objects


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
InfraDep = Annotated[Infra, Depends(get_infra)]
CacheDep = Annotated[Cache, Depends(get_cache)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]

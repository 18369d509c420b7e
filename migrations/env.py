"""Alembic environment: async engine, both dialects, every service's metadata."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import audotics.services
from audotics.infra.db import Base

# Register every service's tables on the shared metadata (used by autogenerate).
for module in pkgutil.iter_modules(audotics.services.__path__):
    try:
        importlib.import_module(f"audotics.services.{module.name}.models")
    except ModuleNotFoundError as exc:  # a service without tables
        if exc.name != f"audotics.services.{module.name}.models":
            raise

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from audotics.config import Settings

        url = Settings().resolved_database_url
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())

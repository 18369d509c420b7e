"""Alembic migrations, run programmatically (``audotics migrate``, app start-up, tests).

Each service keeps its own migration branch under ``migrations/versions/<service>/``
(``branch_labels=(service,)``), so services evolve their tables independently and
``upgrade heads`` brings every branch up to date.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from audotics.infra.db import normalize_url


def migrations_dir() -> Path:
    override = os.environ.get("AUDOTICS_MIGRATIONS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(database_url: str) -> Config:
    root = migrations_dir()
    cfg = Config()
    cfg.set_main_option("script_location", str(root))
    cfg.set_main_option("version_locations", str(root / "versions"))
    cfg.set_main_option("recursive_version_locations", "true")
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["database_url"] = normalize_url(database_url)
    return cfg


def _outside_event_loop(fn: Callable[[], None]) -> None:
    """Alembic's env.py runs its own event loop, which cannot nest in a running one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn).result()


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (blocking)."""
    _outside_event_loop(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str = "base") -> None:
    _outside_event_loop(lambda: command.downgrade(alembic_config(database_url), revision))

"""An app that stops leaves nothing behind using its database."""

from __future__ import annotations

import threading

import httpx
import pytest
from asgi_lifespan import LifespanManager

from audotics.app import create_app
from audotics.config import Settings
from audotics.workers import analysis


def _aiosqlite_threads() -> int:
    """Live aiosqlite connections: each runs its own worker thread until it is closed."""
    return sum(
        1
        for thread in threading.enumerate()
        if getattr(getattr(thread, "_target", None), "__name__", "") == "_connection_worker_thread"
    )


@pytest.mark.parametrize("round_", range(3))
async def test_start_up_work_ends_before_the_database_closes(
    settings: Settings, round_: int
) -> None:
    # Stopped right after it started, the app's start-up work (the analysis pool warm-up,
    # then the re-queue of pending tracks, which reads the database) is still running.
    # It used to outlive the engine's dispose(): its pooled connection was never closed,
    # and its thread died later on a closed event loop (PytestUnhandledThreadException).
    assert settings.runs_embedded_worker
    before = _aiosqlite_threads()
    application = create_app(settings)
    async with LifespanManager(application):
        infra = application.state.infra
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
    assert not [task for task, owner in analysis._starts.items() if owner is infra]
    assert infra.db.engine.pool.checkedout() == 0
    assert _aiosqlite_threads() == before

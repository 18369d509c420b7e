"""The database unit's connection handling on SQLite (real files, real aiosqlite)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from audotics.infra.db import Database


async def _driver_connections(db: Database, sessions: int) -> set[int]:
    kept = []  # held, so a closed connection's id cannot be reused by the next one
    for _ in range(sessions):
        async with db.session() as session:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            kept.append(raw.driver_connection)
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    return {id(connection) for connection in kept}


async def test_a_file_database_reuses_its_connections(tmp_path: Path) -> None:
    # Opening one (a thread, the file, four PRAGMAs) cost ~3 ms of every request.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pooled.db'}")
    try:
        assert len(await _driver_connections(db, 4)) == 1
    finally:
        await db.dispose()


async def test_concurrent_sessions_get_their_own_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pooled.db'}")
    try:
        async with db.session() as first, db.session() as second:
            a = await (await first.connection()).get_raw_connection()
            b = await (await second.connection()).get_raw_connection()
            assert a.driver_connection is not b.driver_connection
    finally:
        await db.dispose()

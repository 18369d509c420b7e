"""Writes to the search tables, and the choice of dialect backend for reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search import postgres_backend, query_plan, sqlite_backend
from audotics.services.search.query_plan import FoundRow, SearchPlan, docs

_UPSERT_BATCH = 500
_DELETE_BATCH = 500
_UPDATED_ON_CONFLICT = (
    "title",
    "subtitle",
    "keywords",
    "owner_id",
    "popularity",
    "rank_key",
    "payload",
    "tempo_bpm",
    "key",
    "mode",
    "energy",
    "danceability",
    "valence",
    "updated_at",
)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def upsert_documents(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace by (kind, ref_id); rows must hold every column but ``id``."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    statement = insert(docs)
    statement = statement.on_conflict_do_update(
        index_elements=[docs.c.kind, docs.c.ref_id],
        set_={name: statement.excluded[name] for name in _UPDATED_ON_CONFLICT},
    )
    for start in range(0, len(rows), _UPSERT_BATCH):
        await session.execute(statement, list(rows[start : start + _UPSERT_BATCH]))


async def delete_documents(session: AsyncSession, kind: str, ref_ids: Sequence[uuid.UUID]) -> None:
    for start in range(0, len(ref_ids), _DELETE_BATCH):
        chunk = ref_ids[start : start + _DELETE_BATCH]
        await session.execute(delete(docs).where(docs.c.kind == kind, docs.c.ref_id.in_(chunk)))


async def find(session: AsyncSession, plan: SearchPlan) -> tuple[list[FoundRow], int]:
    if dialect_of(session) == "postgresql":
        return await query_plan.search(session, postgres_backend.BACKEND, plan)
    has_ln = sqlite_backend.has_math_functions()
    return await query_plan.search(session, sqlite_backend.BACKEND, plan, has_ln)

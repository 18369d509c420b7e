"""search_0002 carries documents indexed under search_0001, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from audotics.infra import migrate
from audotics.infra.db import Database
from audotics.services.search import service
from audotics.services.search.schemas import SearchQuery

# search_documents as search_0001 made it (no rank_key).
_v1_docs = sa.table(
    "search_documents",
    *[sa.column(name) for name in ("kind", "title", "subtitle", "keywords", "payload")],
    sa.column("ref_id", sa.Uuid()),
    sa.column("owner_id", sa.Uuid()),
    sa.column("popularity", sa.Float()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


async def _titles(url: str, text: str, viewer: uuid.UUID | None = None) -> list[str]:
    db = Database(url)
    try:
        async with db.session() as session:
            found = await service.search(session, SearchQuery(text=text), viewer)
    finally:
        await db.dispose()
    return [hit.title for hit in found.hits]


async def test_upgrading_from_search_0001_keeps_every_document(database_url: str) -> None:
    migrate.downgrade(database_url, "search_0001")
    owner = uuid.uuid4()
    rows = [
        ("Blue Monday", None, 2.0),
        ("Blue Lines", None, 7.5),
        ("Blue Demo", owner, 9.0),
    ]
    db = Database(database_url)
    async with db.session() as session:
        await session.execute(
            sa.insert(_v1_docs),
            [
                {
                    "kind": "track",
                    "ref_id": uuid.uuid4(),
                    "title": title,
                    "subtitle": "",
                    "keywords": "",
                    "owner_id": owner_id,
                    "popularity": popularity,
                    "payload": "{}",
                    "updated_at": datetime.now(UTC),
                }
                for title, owner_id, popularity in rows
            ],
        )
    await db.dispose()

    migrate.upgrade(database_url)

    assert await _titles(database_url, "blue") == ["Blue Lines", "Blue Monday"]
    assert await _titles(database_url, "blue", owner) == ["Blue Demo", "Blue Lines", "Blue Monday"]
    # And back down and up again, still whole.
    migrate.downgrade(database_url, "search_0001")
    migrate.upgrade(database_url)
    assert await _titles(database_url, "monday") == ["Blue Monday"]

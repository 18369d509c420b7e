"""The functions the catalog calls, used directly on both databases (no HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from audotics.infra.db import Database
from audotics.problems import Unprocessable
from audotics.services.search import service, sqlite_backend
from audotics.services.search.schemas import DocumentKind, SearchQuery
from tests.integration.search.support import document


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def _titles(db: Database, query: SearchQuery, viewer: uuid.UUID | None = None) -> list[str]:
    async with db.session() as session:
        return [hit.title for hit in (await service.search(session, query, viewer)).hits]


async def test_index_search_and_remove_in_the_callers_transaction(db: Database) -> None:
    owner = uuid.uuid4()
    public = document("Windowlicker", subtitle="Aphex Twin", popularity=3, tempo_bpm=128)
    private = document("Windowlicker Demo", owner_id=owner, popularity=9)
    async with db.session() as session:
        await service.index_documents(session, [public, private])
        # Visible inside the same transaction, before the commit.
        found = await service.search(session, SearchQuery(text="windowlick"), owner)
        assert [hit.id for hit in found.hits] == [private.ref_id, public.ref_id]

    results = None
    async with db.session() as session:
        results = await service.search(session, SearchQuery(text="aphex twin", limit=5), None)
    assert results.total == 1
    (hit,) = results.hits
    assert (hit.kind, hit.id, hit.subtitle) == (DocumentKind.track, public.ref_id, "Aphex Twin")
    assert 4.0 <= hit.score < 5.0  # the words as a phrase (in the subtitle)

    assert await _titles(db, SearchQuery(text="windowlicker")) == ["Windowlicker"]
    assert await _titles(db, SearchQuery(tempo_min=120), owner) == ["Windowlicker"]

    async with db.session() as session:
        await service.remove_documents(session, DocumentKind.track, [public.ref_id, private.ref_id])
        await service.index_documents(session, [])
        await service.remove_documents(session, DocumentKind.album, [])
    assert await _titles(db, SearchQuery(text="windowlicker"), owner) == []


async def test_a_rolled_back_transaction_leaves_no_trace(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await service.index_documents(session, [document("Ghost Track")])
            raise RuntimeError("the catalog's write failed")

    assert await _titles(db, SearchQuery(text="ghost")) == []
    assert await _titles(db, SearchQuery(text="gohst")) == []


async def test_documents_keep_their_text_exactly_and_drop_nul_bytes(db: Database) -> None:
    quoted = "\u2018Quoted\u2019 & <b>"
    doc = document("Mo\u0308tley\x00 Cru\u0308e", subtitle=quoted, keywords="a\x00b")
    async with db.session() as session:
        await service.index_documents(session, [doc])

    async with db.session() as session:
        (hit,) = (await service.search(session, SearchQuery(text="motley crue"), None)).hits
    assert hit.title == "Mötley Crüe"  # composed (NFC), NUL removed
    assert hit.subtitle == quoted


def test_search_queries_are_validated() -> None:
    with pytest.raises(ValidationError):
        SearchQuery(limit=101)
    with pytest.raises(ValidationError):
        SearchQuery(tempo_min=130, tempo_max=120)
    with pytest.raises(ValidationError):
        SearchQuery(key="X#")
    query = SearchQuery(kinds="artist, album", key="bb", mode=" Minor ")
    assert query.kinds == [DocumentKind.artist, DocumentKind.album]
    assert (query.key, query.mode) == ("A#", "minor")


async def test_a_genre_without_words_is_unprocessable(db: Database) -> None:
    async with db.session() as session:
        with pytest.raises(Unprocessable):
            await service.search(session, SearchQuery(genre="--"), None)


async def test_ranking_holds_without_sqlite_math_functions(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some SQLite builds lack ln(): relevance then orders directly, without bands.
    monkeypatch.setattr(sqlite_backend, "has_math_functions", lambda: False)
    async with db.session() as session:
        await service.index_documents(
            session,
            [
                document("Tapes", keywords="glass", popularity=9),
                document("Glass", popularity=1),
                document("Sand", subtitle="Glass", popularity=5),
            ],
        )

    assert await _titles(db, SearchQuery(text="glass")) == ["Glass", "Sand", "Tapes"]

"""The search service's public functions; the catalog pushes documents through these."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.db import utcnow
from audotics.problems import Unprocessable
from audotics.services.search import repository, vocabulary
from audotics.services.search.models import float32, rank_key_of
from audotics.services.search.query_plan import (
    QueryWord,
    SearchPlan,
    genre_words,
    parse_words,
)
from audotics.services.search.schemas import (
    DocumentKind,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    canonical_key,
    canonical_mode,
)


def _clean(text: str) -> str:
    # NFC so composed and decomposed input index alike; PostgreSQL text cannot hold NUL.
    return unicodedata.normalize("NFC", text.replace("\x00", ""))


def _optional(value: str | None, canonical: Any) -> str | None:
    if value is None:
        return None
    try:
        result: str = canonical(value)
    except ValueError:
        return None  # unknown spellings are left out rather than failing the catalog's write
    return result


def _row(doc: SearchDocument) -> dict[str, Any]:
    return {
        "kind": doc.kind.value,
        "ref_id": doc.ref_id,
        "title": _clean(doc.title),
        "subtitle": _clean(doc.subtitle),
        "keywords": _clean(doc.keywords),
        "owner_id": doc.owner_id,
        "popularity": float32(doc.popularity),
        "rank_key": rank_key_of(doc.popularity),
        "payload": doc.payload,
        "tempo_bpm": doc.tempo_bpm,
        "key": _optional(doc.key, canonical_key),
        "mode": _optional(doc.mode, canonical_mode),
        "energy": doc.energy,
        "danceability": doc.danceability,
        "valence": doc.valence,
        "updated_at": utcnow(),
    }


async def index_documents(session: AsyncSession, docs: Sequence[SearchDocument]) -> None:
    """Add or replace documents, matched on (kind, ref_id); the last of duplicates wins."""
    latest = {(doc.kind, doc.ref_id): doc for doc in docs}
    if not latest:
        return
    rows = [_row(doc) for doc in latest.values()]
    await repository.upsert_documents(session, rows)
    texts = (row[field] for row in rows for field in ("title", "subtitle", "keywords"))
    await vocabulary.add_terms(session, vocabulary.vocabulary_terms(texts))


async def remove_documents(
    session: AsyncSession, kind: DocumentKind, ref_ids: Sequence[uuid.UUID]
) -> None:
    """Remove documents; ids that are not indexed are ignored."""
    await repository.delete_documents(
        session, DocumentKind(kind).value, list(dict.fromkeys(ref_ids))
    )


async def search(
    session: AsyncSession, query: SearchQuery, viewer_id: uuid.UUID | None
) -> SearchResults:
    """Public documents and the viewer's own, best match first.

    Text without a single letter or digit counts as no text: with filters the
    results are browsed by popularity, without filters there are none.
    """
    words = parse_words(query.text)
    genre = genre_words(query.genre)
    if query.genre is not None and genre is None:
        raise Unprocessable(
            "genre needs at least one letter or digit.",
            errors=[{"field": "genre", "message": "no words"}],
        )
    if not words and not query.any_set:
        return SearchResults(hits=[], total=0)
    if words:
        typos = await vocabulary.corrections(session, [word.text for word in words])
        words = [
            QueryWord(word.text, word.prefix, tuple(c.term for c in typos.get(word.text, ())))
            for word in words
        ]
    plan = SearchPlan(
        words=tuple(words),
        filters=query,
        genre=genre,
        viewer_id=viewer_id,
        limit=query.limit,
        offset=query.offset,
    )
    rows, total = await repository.find(session, plan)
    hits = [
        SearchHit(
            kind=row.kind,
            id=row.ref_id,
            title=row.title,
            subtitle=row.subtitle,
            score=row.score,
            payload=row.payload,
        )
        for row in rows
    ]
    return SearchResults(hits=hits, total=total)

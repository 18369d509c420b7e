"""The typo index: vocabulary terms stored under their deletion variants."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search import tokens
from audotics.services.search.models import SearchTermVariant

_CHUNK = 500  # bound parameters per statement stay far below every driver's limit
MAX_TYPOS_PER_WORD = 12

_variants = cast(Table, SearchTermVariant.__table__)


@dataclass(frozen=True)
class Correction:
    term: str
    distance: int
    similarity: float


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def vocabulary_terms(texts: Iterable[str]) -> set[str]:
    return {
        term
        for text in texts
        for term in tokens.folded_words(text)
        if tokens.is_vocabulary_term(term)
    }


async def add_terms(session: AsyncSession, terms: Iterable[str]) -> None:
    """Index the terms not yet known; concurrent writers adding the same term are harmless."""
    wanted = sorted(set(terms))
    known: set[str] = set()
    table = _variants
    for chunk in _chunks(wanted):
        result = await session.execute(
            select(table.c.term).where(table.c.variant == table.c.term, table.c.term.in_(chunk))
        )
        known.update(result.scalars())
    rows = [
        {"variant": variant, "term": term}
        for term in wanted
        if term not in known
        for variant in sorted(tokens.term_variants(term))
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing()
    for start in range(0, len(rows), 2000):
        await session.execute(statement, rows[start : start + 2000])


async def corrections(
    session: AsyncSession, words: Sequence[str]
) -> dict[str, tuple[Correction, ...]]:
    """Vocabulary terms within each word's typo budget, closest first (the word excluded)."""
    variants = {word: tokens.query_variants(word) for word in words if tokens.typo_budget(word)}
    wanted = sorted(set().union(*variants.values())) if variants else []
    candidates: set[str] = set()
    table = _variants
    for chunk in _chunks(wanted):
        result = await session.execute(
            select(table.c.term).where(table.c.variant.in_(chunk)).distinct()
        )
        candidates.update(result.scalars())
    found: dict[str, tuple[Correction, ...]] = {}
    for word in variants:
        budget = tokens.typo_budget(word)
        close = [
            Correction(term, distance, tokens.trigram_similarity(word, term))
            for term in candidates
            if term != word and (distance := tokens.edit_distance(word, term, budget)) <= budget
        ]
        close.sort(key=lambda c: (c.distance, -c.similarity, c.term))
        found[word] = tuple(close[:MAX_TYPOS_PER_WORD])
    return found

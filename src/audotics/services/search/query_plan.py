"""What a search asks for, in a form both dialect backends render, and their shared SQL.

Ranking, the same on both dialects: the match tier first (the words as a
phrase, then all words, then the last word as a prefix, then with typos);
then the field: the whole query within the title, within title and subtitle,
or reaching into keywords; then a band of the dialect's field-weighted
relevance (bm25 / ts_rank_cd); then popularity; then the exact relevance and
the row id, so that the order is total and pages never overlap.

The field is a rank of its own because weights inside bm25 saturate with the
term frequency: a title weight of 10 against a subtitle weight of 3 moves the
score by only a third, less than document length does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search import tokens
from audotics.services.search.models import SearchDocumentRow
from audotics.services.search.schemas import DocumentKind, SearchFilters

PHRASE, ALL_WORDS, PREFIX, TYPO, BROWSE = 4, 3, 2, 1, 0
IN_TITLE, IN_TITLE_OR_SUBTITLE, IN_ANY_FIELD = 3, 2, 1

# Relevance within a factor of e**(1/BAND_SCALE) (about 1.9) counts as equal, so that
# popularity decides between, say, two title matches of different lengths while a
# title match (weight 10 or 1.0) still beats a subtitle match (3 or 0.3).
BAND_SCALE = 1.5
MIN_RELEVANCE = 1e-9

docs = cast(Table, SearchDocumentRow.__table__)


@dataclass(frozen=True)
class QueryWord:
    text: str  # folded
    prefix: bool  # the word being typed: also matches longer words
    typos: tuple[str, ...] = ()


class Check(Enum):
    """A tier's condition, which each backend renders in its own query language."""

    phrase = "phrase"
    all_words = "all_words"
    prefix = "prefix"


@dataclass(frozen=True)
class SearchPlan:
    words: tuple[QueryWord, ...]  # empty: browse by popularity
    filters: SearchFilters
    genre: str | None  # the genre's words, space-separated, or None
    viewer_id: uuid.UUID | None
    limit: int
    offset: int

    def tier_checks(self) -> tuple[list[tuple[Check, int]], int]:
        """The checks to make, best tier first, and the tier of rows that pass none.

        Every matched row satisfies the broadest condition, so the last tier
        needs no check of its own.
        """
        checks: list[tuple[Check, int]] = []
        if len(self.words) > 1:
            checks.append((Check.phrase, PHRASE))
        checks.append((Check.all_words, PHRASE if len(self.words) == 1 else ALL_WORDS))
        if self.words[-1].prefix:
            checks.append((Check.prefix, PREFIX))
        if any(word.typos for word in self.words):
            return checks, TYPO
        _, last_tier = checks.pop()
        return checks, last_tier


def parse_words(text: str) -> list[QueryWord]:
    """Folded words of the query, the last one a prefix when long enough to narrow results."""
    found = [w[: tokens.MAX_WORD_LENGTH] for w in tokens.folded_words(text)]
    found = found[: tokens.MAX_QUERY_WORDS]
    return [
        QueryWord(text=word, prefix=i == len(found) - 1 and len(word) >= tokens.MIN_PREFIX_LENGTH)
        for i, word in enumerate(found)
    ]


@dataclass(frozen=True)
class FoundRow:
    kind: DocumentKind
    ref_id: uuid.UUID
    title: str
    subtitle: str
    payload: dict[str, Any]
    tier: int
    field: int
    relevance: float

    @property
    def score(self) -> float:
        """The tier, plus a fraction below 1 that grows with the field and the relevance."""
        if self.tier == BROWSE:
            return 0.0
        relevance = max(self.relevance, 0.0)
        fraction = (self.field - IN_ANY_FIELD) / 3 + relevance / (1.0 + relevance) / 3
        return round(self.tier + fraction, 6)


RESULT_COLUMNS = (
    docs.c.id,
    docs.c.kind,
    docs.c.ref_id,
    docs.c.title,
    docs.c.subtitle,
    docs.c.payload,
    docs.c.popularity,
)


def filter_conditions(plan: SearchPlan) -> list[ColumnElement[bool]]:
    """Visibility and the structured filters, on plain columns (the genre is the backends')."""
    f = plan.filters
    visible: ColumnElement[bool] = docs.c.owner_id.is_(None)
    if plan.viewer_id is not None:
        visible = or_(visible, docs.c.owner_id == plan.viewer_id)
    conditions: list[ColumnElement[bool]] = [visible]
    if f.kinds:
        conditions.append(docs.c.kind.in_(sorted({kind.value for kind in f.kinds})))
    ranges = (
        (docs.c.tempo_bpm, f.tempo_min, f.tempo_max),
        (docs.c.energy, f.energy_min, f.energy_max),
        (docs.c.danceability, f.danceability_min, f.danceability_max),
        (docs.c.valence, f.valence_min, f.valence_max),
    )
    for column, low, high in ranges:
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    if f.key is not None:
        conditions.append(docs.c.key == f.key)
    if f.mode is not None:
        conditions.append(docs.c.mode == f.mode)
    return conditions


def ranked(inner: Select[Any], greatest: str | None) -> Select[Any]:
    """Order rows of ``inner`` (RESULT_COLUMNS, tier, field, relevance) and count them.

    The rows are materialized first so the relevance function runs once per row.
    ``greatest`` names the dialect's two-argument maximum; None skips relevance
    bands (browsing, or a SQLite without math functions).
    """
    rows = inner.cte("ranked").prefix_with("MATERIALIZED")
    order: list[ColumnElement[Any]] = [rows.c.tier.desc(), rows.c.field.desc()]
    if greatest is not None:
        floored = getattr(func, greatest)(rows.c.relevance, MIN_RELEVANCE)
        order.append(func.floor(func.ln(floored) * BAND_SCALE).desc())
    order += [rows.c.popularity.desc(), rows.c.relevance.desc(), rows.c.id]
    return select(rows, func.count().over().label("total")).order_by(*order)


def browse_columns() -> tuple[ColumnElement[Any], ...]:
    return (
        *RESULT_COLUMNS,
        literal(BROWSE).label("tier"),
        literal(0).label("field"),
        literal(0.0).label("relevance"),
    )


async def fetch_page(
    session: AsyncSession, statement: Select[Any], plan: SearchPlan
) -> tuple[list[FoundRow], int]:
    """Run a ``ranked`` statement: one page of rows, and the total."""
    paged = statement.limit(plan.limit).offset(plan.offset)
    rows = (await session.execute(paged)).mappings().all()
    if rows:
        total = int(rows[0]["total"])
    elif plan.offset == 0:
        total = 0
    else:  # past the end: the window count came back with no row to carry it
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        total = int((await session.execute(counted)).scalar_one())
    return [_found(row) for row in rows], total


def _found(row: Any) -> FoundRow:
    return FoundRow(
        kind=DocumentKind(row["kind"]),
        ref_id=row["ref_id"],
        title=row["title"],
        subtitle=row["subtitle"],
        payload=row["payload"] or {},
        tier=int(row["tier"]),
        field=int(row["field"]),
        relevance=float(row["relevance"] or 0.0),
    )


def genre_words(genre: str | None) -> str | None:
    if genre is None:
        return None
    found = tokens.folded_words(genre)[: tokens.MAX_QUERY_WORDS]
    return " ".join(found) if found else None


def all_words(words: Sequence[QueryWord]) -> str:
    return " ".join(word.text for word in words)

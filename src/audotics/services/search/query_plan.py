"""What a search asks for, and the ranking both dialect backends share.

Ranking, the same on both dialects: the match tier first (the words as a
phrase, then all words, then the last word as a prefix, then with typos);
then a band of field-weighted relevance (title 100, subtitle 10, keywords 1:
per-column bm25 on SQLite, ts_rank_cd on PostgreSQL), counted from the tier's
best match, so a title match beats a subtitle match beats a keyword match
while matches nearly as relevant share a band; then popularity; then the id,
so the order is total and pages never overlap.

The ranking window keeps every query's cost bounded: each tier contributes at
most its RANK_WINDOW most popular matches to the ranked head, and any further
matches (only queries matching more than that many documents have them)
follow the head by popularity alone. Tier conditions are nested (a phrase
match is an all-words match is a prefix match is a typo match), so a row's
tier is the best tier whose window holds it: if it matches a better tier it is
also among that tier's most popular.

Statements depend only on the query's shape (which tiers, which filters), not
its values, so each shape is built once and reused with bind parameters.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    Table,
    Uuid,
    bindparam,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search import tokens
from audotics.services.search.models import SearchDocumentRow
from audotics.services.search.schemas import DocumentKind, SearchFilters

PHRASE, ALL_WORDS, PREFIX, TYPO, BROWSE = 4, 3, 2, 1, 0
RANK_WINDOW = 100
DENSE_MATCHES = 2000

# Relevance within a factor of e**(1/BAND_SCALE) (about 1.9) counts as equal, so that
# popularity decides between two title matches of different lengths, while field
# weights ten times apart put title, subtitle and keyword matches in different bands.
BAND_SCALE = 1.5
MIN_RELEVANCE = 1e-12

docs = cast(Table, SearchDocumentRow.__table__)

Compare = Callable[[Any, Any], ColumnElement[bool]]
FEATURES: dict[str, tuple[Any, Compare]] = {
    "tempo_min": (docs.c.tempo_bpm, operator.ge),
    "tempo_max": (docs.c.tempo_bpm, operator.le),
    "energy_min": (docs.c.energy, operator.ge),
    "energy_max": (docs.c.energy, operator.le),
    "danceability_min": (docs.c.danceability, operator.ge),
    "danceability_max": (docs.c.danceability, operator.le),
    "valence_min": (docs.c.valence, operator.ge),
    "valence_max": (docs.c.valence, operator.le),
    "key": (docs.c.key, operator.eq),
    "mode": (docs.c.mode, operator.eq),
}


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
    broad = "broad"  # what every match satisfies: the last, widest tier


@dataclass(frozen=True)
class SearchPlan:
    words: tuple[QueryWord, ...]  # empty: browse by popularity
    filters: SearchFilters
    genre: str | None  # the genre's words, space-separated, or None
    viewer_id: uuid.UUID | None
    limit: int
    offset: int

    def tiers(self) -> list[tuple[Check, int]]:
        """The tier conditions, best first; the last is always ``broad``.

        Conditions that cannot hold different rows are left out: without typos
        the prefix condition is the broad one, and so on.
        """
        if not self.words:
            return []
        found: list[tuple[Check, int]] = []
        if len(self.words) > 1:
            found.append((Check.phrase, PHRASE))
        found.append((Check.all_words, PHRASE if len(self.words) == 1 else ALL_WORDS))
        if self.words[-1].prefix:
            found.append((Check.prefix, PREFIX))
        if any(word.typos for word in self.words):
            found.append((Check.broad, TYPO))
        else:
            found[-1] = (Check.broad, found[-1][1])
        return found


@dataclass(frozen=True)
class Shape:
    """What the statements depend on; values travel as bind parameters."""

    tiers: tuple[tuple[Check, int], ...]
    viewer: bool
    kinds: bool
    features: tuple[str, ...]
    genre: bool
    window: int
    has_ln: bool  # False on a SQLite built without math functions: no relevance bands
    dense: bool = False  # more than DENSE_MATCHES matches: backends may walk by popularity

    @property
    def broad_tier(self) -> int:
        return self.tiers[-1][1] if self.tiers else BROWSE


def shape_of(plan: SearchPlan, has_ln: bool) -> Shape:
    return Shape(
        tiers=tuple(plan.tiers()),
        viewer=plan.viewer_id is not None,
        kinds=bool(plan.filters.kinds),
        features=tuple(name for name in FEATURES if getattr(plan.filters, name) is not None),
        genre=plan.genre is not None,
        window=RANK_WINDOW,
        has_ln=has_ln,
    )


def parse_words(text: str) -> list[QueryWord]:
    """Folded words of the query, the last one a prefix when long enough to narrow results."""
    found = [w[: tokens.MAX_WORD_LENGTH] for w in tokens.folded_words(text)]
    found = found[: tokens.MAX_QUERY_WORDS]
    return [
        QueryWord(text=word, prefix=i == len(found) - 1 and len(word) >= tokens.MIN_PREFIX_LENGTH)
        for i, word in enumerate(found)
    ]


def genre_words(genre: str | None) -> str | None:
    if genre is None:
        return None
    found = tokens.folded_words(genre)[: tokens.MAX_QUERY_WORDS]
    return " ".join(found) if found else None


def all_words(words: Sequence[QueryWord]) -> str:
    return " ".join(word.text for word in words)


def kind_names(plan: SearchPlan) -> list[str]:
    return sorted({kind.value for kind in plan.filters.kinds or ()})


def feature_conditions(shape: Shape) -> list[ColumnElement[bool]]:
    conditions = []
    for name in shape.features:
        column, compare = FEATURES[name]
        conditions.append(compare(column, bindparam(name, type_=column.type)))
    return conditions


def visibility_and_kinds(shape: Shape) -> list[ColumnElement[bool]]:
    visible: ColumnElement[bool] = docs.c.owner_id.is_(None)
    if shape.viewer:
        visible = or_(visible, docs.c.owner_id == bindparam("viewer", type_=Uuid()))
    conditions = [visible]
    if shape.kinds:
        conditions.append(docs.c.kind.in_(bindparam("kinds", expanding=True)))
    return conditions


def common_params(plan: SearchPlan) -> dict[str, Any]:
    params: dict[str, Any] = {"viewer": plan.viewer_id, "kinds": kind_names(plan)}
    params.update({name: getattr(plan.filters, name) for name in FEATURES})
    return params


class Backend(Protocol):
    """What a dialect provides. Row selects yield ``doc_id`` and ``rank_key`` columns."""

    def __hash__(self) -> int:  # statements are cached per backend and shape
        ...

    def window(self, shape: Shape, check: Check, tier: int) -> Select[Any] | CompoundSelect:
        """The ``shape.window`` most popular matches of ``check``: tier, relevance."""
        ...

    def scored(self, shape: Shape, head: Subquery) -> Subquery:
        """The head with its final relevance."""
        ...

    def count(self, shape: Shape) -> Select[Any]:
        """The number of matches, as a one-value select."""
        ...

    def by_popularity(self, shape: Shape, exclude: Select[Any] | None) -> Select[Any]:
        """Matches not in ``exclude``, most popular first, ``tail_limit`` from ``tail_offset``."""
        ...

    async def params(self, session: AsyncSession, plan: SearchPlan) -> dict[str, Any]:
        """The dialect's bind parameters for this plan (match expressions, tsqueries)."""
        ...


@dataclass(frozen=True)
class FoundRow:
    kind: DocumentKind
    ref_id: uuid.UUID
    title: str
    subtitle: str
    payload: dict[str, Any]
    tier: int
    relevance: float

    @property
    def score(self) -> float:
        """The tier, plus a fraction below 1 that grows with relevance."""
        if self.tier == BROWSE:
            return 0.0
        relevance = max(self.relevance, 0.0)
        return round(self.tier + relevance / (1.0 + relevance), 6)


_DISPLAY = (docs.c.kind, docs.c.ref_id, docs.c.title, docs.c.subtitle, docs.c.payload)


def _head(backend: Backend, shape: Shape) -> Subquery:
    """Each tier's window, a row keeping the best tier it appears in."""
    windows = [
        select(window.c.doc_id, window.c.rank_key, window.c.tier, window.c.relevance)
        for check, tier in shape.tiers
        for window in [backend.window(shape, check, tier).subquery()]
    ]
    rows = union_all(*windows).subquery("windows")
    best = func.row_number().over(partition_by=rows.c.doc_id, order_by=rows.c.tier.desc())
    numbered = select(rows, best.label("best")).subquery("numbered")
    return (
        select(numbered.c.doc_id, numbered.c.rank_key, numbered.c.tier, numbered.c.relevance)
        .where(numbered.c.best == 1)
        .subquery("head")
    )


def _ranked_page(backend: Backend, shape: Shape) -> Select[Any]:
    """One page of the head, best first, with display columns and the head's size."""
    head = backend.scored(shape, _head(backend, shape))
    best = func.max(head.c.relevance).over(partition_by=head.c.tier)
    rows = select(head, best.label("best")).subquery("scored")
    order: list[ColumnElement[Any]] = [rows.c.tier.desc()]
    if shape.has_ln:
        # Bands counted down from the tier's best match, so the best match and the ones
        # nearly as good share band 0 however the relevance scale falls. A difference of
        # logarithms, so the best match is exactly 0, not -1 by rounding.
        gap = func.ln(rows.c.best + MIN_RELEVANCE) - func.ln(rows.c.relevance + MIN_RELEVANCE)
        order.append(func.floor(gap * BAND_SCALE))
    else:
        order.append(rows.c.relevance.desc())
    order += [rows.c.rank_key.desc(), rows.c.doc_id.desc()]
    page = (
        select(
            rows,
            func.count().over().label("head_size"),
            func.row_number().over(order_by=order).label("position"),
        )
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
        .subquery("page")
    )
    return (
        select(page.c.tier, page.c.relevance, page.c.head_size, *_DISPLAY)
        .join(docs, docs.c.id == page.c.doc_id)
        .order_by(page.c.position)
    )


@dataclass(frozen=True)
class Statements:
    count: Select[Any]
    page: Select[Any] | None  # ranked head (None when browsing)
    head_size: Select[Any] | None
    tail: Select[Any]  # by popularity, past the head


@lru_cache(maxsize=512)
def statements(backend: Backend, shape: Shape) -> Statements:
    if not shape.tiers:
        page = head_size = None
        exclude = None
    else:
        page = _ranked_page(backend, shape)
        head = _head(backend, shape)
        head_size = select(func.count()).select_from(head)
        exclude = select(_head(backend, shape).c.doc_id)
    tail = backend.by_popularity(shape, exclude).subquery("tail")
    return Statements(
        count=backend.count(shape),
        page=page,
        head_size=head_size,
        tail=select(*_DISPLAY)
        .select_from(tail)
        .join(docs, docs.c.id == tail.c.doc_id)
        .order_by(tail.c.rank_key.desc(), tail.c.doc_id.desc()),
    )


async def search(
    session: AsyncSession, backend: Backend, plan: SearchPlan, has_ln: bool = True
) -> tuple[list[FoundRow], int]:
    shape = shape_of(plan, has_ln)
    params = common_params(plan) | await backend.params(session, plan)
    params |= {"limit": plan.limit, "offset": plan.offset}
    # Counted first: nothing more to do without matches, and the windows' best access
    # path depends on how many there are.
    total = int((await session.execute(statements(backend, shape).count, params)).scalar_one())
    if not total or plan.offset >= total:
        return [], total
    shape = replace(shape, dense=total > DENSE_MATCHES)
    built = statements(backend, shape)
    found: list[FoundRow] = []
    head_size = 0
    if built.page is not None:
        rows = (await session.execute(built.page, params)).mappings().all()
        found = [_found(row, int(row["tier"]), float(row["relevance"] or 0.0)) for row in rows]
        if rows:
            head_size = int(rows[0]["head_size"])
        elif built.head_size is not None:
            head_size = int((await session.execute(built.head_size, params)).scalar_one())
    wanted = plan.limit - len(found)
    if wanted and plan.offset + len(found) < total:
        # Past the ranked head (or browsing): the remaining matches by popularity.
        params |= {"tail_limit": wanted, "tail_offset": max(plan.offset - head_size, 0)}
        rows = (await session.execute(built.tail, params)).mappings().all()
        found += [_found(row, shape.broad_tier, 0.0) for row in rows]
    return found, total


def _found(row: Any, tier: int, relevance: float) -> FoundRow:
    return FoundRow(
        kind=DocumentKind(row["kind"]),
        ref_id=row["ref_id"],
        title=row["title"],
        subtitle=row["subtitle"],
        payload=row["payload"] or {},
        tier=tier,
        relevance=relevance,
    )

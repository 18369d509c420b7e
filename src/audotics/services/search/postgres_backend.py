"""Search on PostgreSQL: a weighted tsvector, queried with tsqueries built from our words.

Each word becomes ``plainto_tsquery`` of its folded text, which parses no
operator syntax, so nothing the user types can be a tsquery syntax error; the
prefix form appends ``:*`` to that query's own canonical text. The queries
are computed once in a materialized CTE rather than once per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search.query_plan import (
    IN_ANY_FIELD,
    IN_TITLE,
    IN_TITLE_OR_SUBTITLE,
    RESULT_COLUMNS,
    Check,
    FoundRow,
    QueryWord,
    SearchPlan,
    all_words,
    browse_columns,
    fetch_page,
    filter_conditions,
    ranked,
)

# ts_rank_cd weights in {D, C, B, A} order: keywords (C), subtitle (B), title (A).
WEIGHTS = "'{0.1, 0.1, 0.3, 1.0}'::float4[]"

_vector = literal_column("search_documents.search_vector", TSVECTOR)
_simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
_keywords_only: ColumnElement[Any] = literal_column("""'{c}'::"char"[]""")
_title_only: ColumnElement[Any] = literal_column("""'{a}'::"char"[]""")
_title_and_subtitle: ColumnElement[Any] = literal_column("""'{a,b}'::"char"[]""")

TsQuery = ColumnElement[Any]


def _folded(text: str) -> ColumnElement[str]:
    return func.search_fold(literal(text, Text))


def _plain(text: str) -> TsQuery:
    return func.plainto_tsquery(_simple, _folded(text), type_=TSQUERY)


def _phrase(text: str) -> TsQuery:
    return func.phraseto_tsquery(_simple, _folded(text), type_=TSQUERY)


def _prefix(text: str) -> TsQuery:
    exact = _plain(text)
    # An empty query has no text to append to (its text form '' + ':*' would not parse).
    as_prefix = cast(cast(exact, Text) + ":*", TSQUERY)
    return case((func.numnode(exact) == 0, exact), else_=as_prefix)


def _any(queries: Sequence[TsQuery]) -> TsQuery:
    return reduce(lambda a, b: func.tsquery_or(a, b, type_=TSQUERY), queries)


def _every(queries: Sequence[TsQuery]) -> TsQuery:
    return reduce(lambda a, b: func.tsquery_and(a, b, type_=TSQUERY), queries)


def _word(word: QueryWord, *, typos: bool) -> TsQuery:
    options = [_prefix(word.text) if word.prefix else _plain(word.text)]
    if typos:
        options.extend(_plain(term) for term in word.typos)
    return _any(options)


def tsqueries(plan: SearchPlan) -> dict[str, TsQuery]:
    words = plan.words
    queries: dict[str, TsQuery] = {}
    if plan.genre:
        queries["genre"] = _phrase(plan.genre)
    if words:
        queries["broad"] = _every([_word(word, typos=True) for word in words])
        queries[Check.phrase.value] = _phrase(all_words(words))
        queries[Check.all_words.value] = _plain(all_words(words))
        queries[Check.prefix.value] = _every(
            [_plain(w.text) for w in words[:-1]] + [_prefix(words[-1].text)]
        )
    return queries


def _matches(query: Any) -> ColumnElement[bool]:
    return _vector.op("@@")(query)


def _within(weights: ColumnElement[Any], query: Any) -> ColumnElement[bool]:
    """The query matches within the fields of these weights (A title, B subtitle, C keywords)."""
    return func.ts_filter(_vector, weights, type_=TSVECTOR).op("@@")(query)


async def _constants(session: AsyncSession, queries: dict[str, TsQuery]) -> dict[str, TsQuery]:
    """Evaluate the tsqueries first, so the main query carries them as values.

    A tsquery the planner can see lets it use the GIN index; one computed in
    the same statement (a CTE, a join) leaves it a filter over every row.
    """
    texts = select(*[cast(query, Text).label(name) for name, query in queries.items()])
    row = (await session.execute(texts)).one()
    return {name: cast(literal(value, Text), TSQUERY) for name, value in row._mapping.items()}


async def search(session: AsyncSession, plan: SearchPlan) -> tuple[list[FoundRow], int]:
    conditions = filter_conditions(plan)
    queries = tsqueries(plan)
    if not queries:
        inner = select(*browse_columns()).where(*conditions)
        return await fetch_page(session, ranked(inner, greatest=None), plan)

    q = await _constants(session, queries)
    if plan.genre:
        # The index finds the genre anywhere; ts_filter keeps it to keywords.
        conditions += [_matches(q["genre"]), _within(_keywords_only, q["genre"])]
    if not plan.words:
        inner = select(*browse_columns()).where(*conditions)
        return await fetch_page(session, ranked(inner, greatest=None), plan)

    checks, last_tier = plan.tier_checks()
    tier: ColumnElement[int] = (
        case(*[(_matches(q[check.value]), tier) for check, tier in checks], else_=last_tier)
        if checks
        else literal(last_tier)
    )
    field = case(
        (_within(_title_only, q["broad"]), IN_TITLE),
        (_within(_title_and_subtitle, q["broad"]), IN_TITLE_OR_SUBTITLE),
        else_=IN_ANY_FIELD,
    )
    relevance = func.ts_rank_cd(literal_column(WEIGHTS), _vector, q["broad"])
    inner = select(
        *RESULT_COLUMNS, tier.label("tier"), field.label("field"), relevance.label("relevance")
    ).where(_matches(q["broad"]), *conditions)
    return await fetch_page(session, ranked(inner, "greatest"), plan)

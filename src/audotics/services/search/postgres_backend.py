"""Search on PostgreSQL: a weighted tsvector, queried with tsqueries built from our words.

Each word becomes ``plainto_tsquery`` of its folded text, which parses no
operator syntax, so nothing the user types can be a tsquery syntax error; the
prefix form appends ``:*`` to that query's own canonical text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search.query_plan import (
    Check,
    QueryWord,
    SearchPlan,
    Shape,
    all_words,
    docs,
    feature_conditions,
    visibility_and_kinds,
)

# ts_rank_cd weights in {D, C, B, A} order: keywords (C), subtitle (B), title (A); ten
# times apart, like the SQLite backend's 1, 10 and 100.
WEIGHTS = "'{0.01, 0.01, 0.1, 1.0}'::float4[]"

_vector = literal_column("search_documents.search_vector", TSVECTOR)
_simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
_keywords_only: ColumnElement[Any] = literal_column("""'{c}'::"char"[]""")

# How far down the popularity order a window looks before matching through the GIN
# index instead: a word in a quarter of the rows fills a window of 100 within it.
POPULAR_SCAN = 400

# Set per transaction with the first query. Plans are made per execution, as a generic
# plan would take one access path for rare and common words alike; and no parallel
# workers, which would start (and do their share of) a window's GIN scan before the
# one-time filter that skips it is checked.
_SETTINGS = {"plan_cache_mode": "force_custom_plan", "max_parallel_workers_per_gather": "0"}

TsQuery = ColumnElement[Any]
GENRE = "genre"


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


def _word(word: QueryWord) -> TsQuery:
    options = [_prefix(word.text) if word.prefix else _plain(word.text)]
    options.extend(_plain(term) for term in word.typos)
    return _any(options)


def tsqueries(plan: SearchPlan) -> dict[str, TsQuery]:
    words = plan.words
    queries: dict[str, TsQuery] = {}
    if plan.genre:
        queries[GENRE] = _phrase(plan.genre)
    if words:
        queries[Check.broad.value] = _every([_word(word) for word in words])
        queries[Check.phrase.value] = _phrase(all_words(words))
        queries[Check.all_words.value] = _plain(all_words(words))
        queries[Check.prefix.value] = _every(
            [_plain(w.text) for w in words[:-1]] + [_prefix(words[-1].text)]
        )
    return queries


def _matches(query: Any) -> ColumnElement[bool]:
    return _vector.op("@@")(query)


def _tsquery(check: Check | str) -> ColumnElement[Any]:
    name = check.value if isinstance(check, Check) else check
    return cast(bindparam(f"q_{name}", type_=Text()), TSQUERY)


def _by_popularity(*, through_index: bool) -> list[ColumnElement[Any]]:
    """Most popular first. With words, not through the rank index: walking it and testing
    each row's tsvector costs far more per row than the planner assumes, so for a word in
    1% of rows it reads thousands of tsvectors to find a hundred. The GIN bitmap and a
    top-N sort cost one cheap step per match instead."""
    if through_index:
        return [docs.c.rank_key.desc(), docs.c.id.desc()]
    return [(docs.c.rank_key + 0).desc(), (docs.c.id + 0).desc()]


class PostgresBackend:
    def _conditions(self, shape: Shape, check: Check | None) -> list[ColumnElement[bool]]:
        conditions = visibility_and_kinds(shape) + feature_conditions(shape)
        if check is not None:
            conditions.append(_matches(_tsquery(check)))
        if shape.genre:
            # The index finds the genre anywhere; ts_filter keeps it to keywords.
            keywords = func.ts_filter(_vector, _keywords_only, type_=TSVECTOR)
            conditions += [_matches(_tsquery(GENRE)), keywords.op("@@")(_tsquery(GENRE))]
        return conditions

    def _broad(self, shape: Shape) -> Check | None:
        return Check.broad if shape.tiers else None

    def window(self, shape: Shape, check: Check, tier: int) -> Select[Any] | CompoundSelect:
        """The most popular matches, found one of two ways, whichever is cheap here.

        By default all matches through the GIN index, then a top-N sort. With many
        matches (``shape.dense``), first a walk down the rank index that stops at
        the window's size: if that many are among the POPULAR_SCAN most popular
        rows, they are the answer; only otherwise the GIN way. The planner cannot
        choose well between the two, because testing a row's tsvector costs far
        more than it assumes. Relevance is left to ``scored``, for the window only.
        """
        columns = (literal(tier).label("tier"), literal(0.0).label("relevance"))
        all_matches = (
            select(docs.c.id.label("doc_id"), docs.c.rank_key, *columns)
            .where(_vector.op("@@")(_tsquery(check)), *self._conditions(shape, None))
            .order_by(*_by_popularity(through_index=False))
            .limit(shape.window)
        )
        if not shape.dense:
            return all_matches
        popular = (
            select(docs.c.id, docs.c.rank_key, _vector.label("search_vector"))
            .where(*self._conditions(shape, None))
            .order_by(docs.c.rank_key.desc(), docs.c.id.desc())
            .limit(POPULAR_SCAN)
            .subquery(f"popular_{check.value}")
        )
        found = (
            select(popular.c.id, popular.c.rank_key)
            .where(popular.c.search_vector.op("@@")(_tsquery(check)))
            .order_by(popular.c.rank_key.desc(), popular.c.id.desc())
            .limit(shape.window)
            .cte(f"among_popular_{check.value}")
            .prefix_with("MATERIALIZED")
        )
        complete = select(func.count()).select_from(found).scalar_subquery() >= shape.window
        among_popular = select(found.c.id.label("doc_id"), found.c.rank_key, *columns).where(
            complete
        )
        return union_all(among_popular, all_matches.where(~complete))

    def scored(self, shape: Shape, head: Subquery) -> Subquery:
        query = case(*[(head.c.tier == tier, _tsquery(check)) for check, tier in shape.tiers])
        relevance = func.ts_rank_cd(literal_column(WEIGHTS), _vector, query)
        return (
            select(head.c.doc_id, head.c.rank_key, head.c.tier, relevance.label("relevance"))
            .join(docs, docs.c.id == head.c.doc_id)
            .subquery("ranked_head")
        )

    def count(self, shape: Shape) -> Select[Any]:
        conditions = self._conditions(shape, self._broad(shape))
        return select(func.count()).select_from(docs).where(*conditions)

    def by_popularity(self, shape: Shape, exclude: Select[Any] | None) -> Select[Any]:
        rows = select(docs.c.id.label("doc_id"), docs.c.rank_key).where(
            *self._conditions(shape, self._broad(shape))
        )
        if exclude is not None:
            rows = rows.where(docs.c.id.not_in(exclude))
        return (
            rows.order_by(*_by_popularity(through_index=not shape.tiers))
            .limit(bindparam("tail_limit", type_=Integer()))
            .offset(bindparam("tail_offset", type_=Integer()))
        )

    async def params(self, session: AsyncSession, plan: SearchPlan) -> dict[str, Any]:
        """Evaluate the plan's tsqueries first, so the search statements carry them as values.

        A tsquery the planner can see lets it use the GIN index; one computed in
        the same statement (a CTE, a join) leaves it a filter over every row. The
        same round trip sets _SETTINGS for the rest of the transaction.
        """
        queries = tsqueries(plan)
        if not queries:
            return {}
        texts = select(
            *[func.set_config(name, value, True) for name, value in _SETTINGS.items()],
            *[cast(query, Text).label(name) for name, query in queries.items()],
        )
        row = (await session.execute(texts)).one()
        return {f"q_{name}": row._mapping[name] for name in queries}


BACKEND = PostgresBackend()

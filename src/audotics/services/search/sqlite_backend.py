"""Search on SQLite: FTS5 MATCH expressions built from our parsed words, never the user's syntax.

Every word goes in as a double-quoted FTS5 string, so quotes, operators,
column filters and NUL bytes typed by the user are only ever text.

The FTS5 rowid is ``rank_key << 32 | id``: "the N most popular visible
matches" is one FTS5 scan in descending rowid order, checking each row's
visibility and filters on the joined document, that stops after N rows. The
``tags`` column holds each row's kind and, for private rows, "private" and the
owner, so counts come from the index alone. No tag is on every row: FTS5 would
read a doclist that long in full for each AND and each bm25.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Subquery,
    bindparam,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search.models import FTS_TABLE, ID_BITS
from audotics.services.search.query_plan import (
    Check,
    QueryWord,
    SearchPlan,
    Shape,
    all_words,
    docs,
    feature_conditions,
    kind_names,
    visibility_and_kinds,
)
from audotics.services.search.schemas import DocumentKind

# Relevance: per-column bm25, summed with these weights. One bm25 call with column
# weights would saturate them with the term frequency (10 against 1 becomes ~1.3).
FIELD_WEIGHTS = {0: 100.0, 1: 10.0, 2: 1.0}  # title, subtitle, keywords; tags (3) count 0
_TEXT_COLUMNS = "{title subtitle keywords}"
ALL_KINDS = [kind.value for kind in DocumentKind]
_ID_MASK = (1 << ID_BITS) - 1

_fts = table(FTS_TABLE, column("rowid", BigInteger))
_fts_name: ColumnElement[Any] = literal_column(FTS_TABLE)
_doc_id = _fts.c.rowid.op("&", return_type=BigInteger)(_ID_MASK)
_rank_key = _fts.c.rowid.op(">>", return_type=BigInteger)(ID_BITS)


@cache
def has_math_functions() -> bool:
    """ln() and floor() exist only when SQLite was built with them (the default since 3.35)."""
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute("SELECT floor(ln(2.0))")
        except sqlite3.OperationalError:
            return False
    return True


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _alternatives(word: QueryWord, *, typos: bool) -> str:
    options = [quote(word.text) + ("*" if word.prefix else "")]
    if typos:
        options.extend(quote(term) for term in word.typos)
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def text_expressions(words: tuple[QueryWord, ...]) -> dict[Check, str]:
    """Each tier's condition on the words, as FTS5 query syntax."""
    exact = " AND ".join(quote(word.text) for word in words)
    prefix = " AND ".join([quote(w.text) for w in words[:-1]] + [quote(words[-1].text) + "*"])
    return {
        Check.phrase: quote(all_words(words)),
        Check.all_words: exact,
        Check.prefix: prefix,
        Check.broad: " AND ".join(_alternatives(word, typos=True) for word in words),
    }


def match_expression(plan: SearchPlan, text: str | None, tags: str | None = None) -> str:
    """An FTS5 query: the words in the text columns, the genre in keywords, maybe tags."""
    parts = [] if text is None else [f"{_TEXT_COLUMNS} : ({text})"]
    if plan.genre:
        parts.append(f"{{keywords}} : {quote(plan.genre)}")
    if tags:
        parts.append(f"{{tags}} : ({tags})")
    return " AND ".join(parts)


def _any_token(tokens: list[str]) -> str:
    return " OR ".join(quote(token) for token in tokens)


def _relevance() -> ColumnElement[float]:
    total: ColumnElement[float] = literal(0.0)
    for position, weight in FIELD_WEIGHTS.items():
        weights = [1.0 if i == position else 0.0 for i in range(4)]
        total = total + weight * func.bm25(_fts_name, *weights, type_=Float)
    return -total  # bm25 is negative, lower is better


def _match(name: str) -> ColumnElement[bool]:
    return _fts_name.op("MATCH")(bindparam(name, type_=String()))


def _fts_count(name: str) -> Any:
    return select(func.count()).select_from(_fts).where(_match(name)).scalar_subquery()


def _fts_any(name: str) -> ColumnElement[bool]:
    return exists(select(_fts.c.rowid).where(_match(name)))


class SqliteBackend:
    """Statements over the FTS5 table; ``params`` supplies their MATCH expressions."""

    def _rows(self, shape: Shape, check: Check | None, *columns: Any) -> Select[Any]:
        name = f"match_{check.value}" if check else "match_all"
        return (
            select(*columns)
            .select_from(_fts)
            .join(docs, docs.c.id == _doc_id)
            .where(_match(name), *visibility_and_kinds(shape), *feature_conditions(shape))
        )

    def _broad(self, shape: Shape) -> Check | None:
        return Check.broad if shape.tiers else None

    def window(self, shape: Shape, check: Check, tier: int) -> Select[Any]:
        columns = (
            _doc_id.label("doc_id"),
            _rank_key.label("rank_key"),
            literal(tier).label("tier"),
            _relevance().label("relevance"),
        )
        rows = self._rows(shape, check, *columns)
        return rows.order_by(_fts.c.rowid.desc()).limit(shape.window)

    def scored(self, shape: Shape, head: Subquery) -> Subquery:
        return head  # bm25 can only run in the FTS5 scan: the windows carry it

    def count(self, shape: Shape) -> Select[Any]:
        if shape.features:
            rows = self._rows(shape, self._broad(shape), _doc_id).subquery()
            return select(func.count()).select_from(rows)
        # From the index alone: all matches, less the private ones, plus the viewer's own.
        # Each correction is skipped when the index holds no such row at all.
        total = _fts_count("count_all") - case(
            (_fts_any("any_private"), _fts_count("count_private")), else_=0
        )
        if shape.viewer:
            total = total + case((_fts_any("any_own"), _fts_count("count_own")), else_=0)
        return select(total)

    def by_popularity(self, shape: Shape, exclude: Select[Any] | None) -> Select[Any]:
        rows = self._rows(
            shape, self._broad(shape), _doc_id.label("doc_id"), _rank_key.label("rank_key")
        )
        if exclude is not None:
            rows = rows.where(_doc_id.not_in(exclude))
        return (
            rows.order_by(_fts.c.rowid.desc())
            .limit(bindparam("tail_limit", type_=Integer()))
            .offset(bindparam("tail_offset", type_=Integer()))
        )

    async def params(self, session: AsyncSession, plan: SearchPlan) -> dict[str, Any]:
        text = text_expressions(plan.words) if plan.words else {}
        kinds = kind_names(plan)
        if not kinds and not plan.words:
            kinds = ALL_KINDS  # every row has its kind as a tag: browsing matches them all
        kinds_tag = f"({_any_token(kinds)})" if kinds else None
        broad = text.get(Check.broad)

        def counting(tag: str | None) -> str:
            tags = " AND ".join(t for t in (kinds_tag, tag) if t)
            return match_expression(plan, broad, tags or None)

        found = {f"match_{check.value}": match_expression(plan, t) for check, t in text.items()}
        found |= {
            "match_all": match_expression(plan, None, kinds_tag),
            "count_all": counting(None),
            "count_private": counting('"private"'),
            "any_private": '{tags} : "private"',
        }
        if plan.viewer_id is not None:
            own = quote(f"o{plan.viewer_id.hex}")
            found |= {"count_own": counting(own), "any_own": f"{{tags}} : {own}"}
        return found


BACKEND = SqliteBackend()

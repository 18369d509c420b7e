"""Search on SQLite: FTS5 MATCH expressions built from our parsed words, never the user's syntax.

Every word goes in as a double-quoted FTS5 string, so quotes, operators,
column filters and NUL bytes typed by the user are only ever text.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.services.search.models import FTS_TABLE
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
    docs,
    fetch_page,
    filter_conditions,
    ranked,
)

# bm25 column weights: title, subtitle, keywords.
WEIGHTS = (10.0, 3.0, 1.0)

_fts = table(FTS_TABLE, column("rowid", Integer))
_fts_name: ColumnElement[Any] = literal_column(FTS_TABLE)


@cache
def _has_math_functions() -> bool:
    """ln() and floor() exist only when SQLite was built with them (the default since 3.35)."""
    try:
        sqlite3.connect(":memory:").execute("SELECT floor(ln(2.0))")
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


def match_expressions(plan: SearchPlan) -> dict[str, str]:
    """The FTS5 query of each check, and ``broad``: what any matching row satisfies."""
    words = plan.words
    exact = " AND ".join(quote(word.text) for word in words)
    genre = f"{{keywords}} : {quote(plan.genre)}" if plan.genre else None
    if not words:
        return {"broad": genre} if genre else {}
    broad = " AND ".join(_alternatives(word, typos=True) for word in words)
    prefix = " AND ".join([quote(w.text) for w in words[:-1]] + [quote(words[-1].text) + "*"])
    return {
        "broad": f"{broad} AND {genre}" if genre else broad,
        "in_title": f"{{title}} : ({broad})",
        "in_title_or_subtitle": f"{{title subtitle}} : ({broad})",
        Check.phrase.value: quote(all_words(words)),
        Check.all_words.value: exact,
        Check.prefix.value: prefix,
    }


def _matching_rowids(expression: str) -> Select[Any]:
    return select(_fts.c.rowid).where(_fts_name.op("MATCH")(bindparam(None, expression)))


async def search(session: AsyncSession, plan: SearchPlan) -> tuple[list[FoundRow], int]:
    expressions = match_expressions(plan)
    conditions = filter_conditions(plan)
    if not plan.words:
        inner = select(*browse_columns()).where(*conditions)
        if "broad" in expressions:
            inner = inner.where(docs.c.id.in_(_matching_rowids(expressions["broad"])))
        return await fetch_page(session, ranked(inner, greatest=None), plan)

    hits = (
        select(
            _fts.c.rowid.label("doc_id"),
            (-func.bm25(_fts_name, *WEIGHTS, type_=Float)).label("relevance"),
        )
        .where(_fts_name.op("MATCH")(bindparam(None, expressions["broad"])))
        .subquery("hits")
    )
    checks, last_tier = plan.tier_checks()
    tier: ColumnElement[int] = (
        case(
            *[
                (docs.c.id.in_(_matching_rowids(expressions[check.value])), tier)
                for check, tier in checks
            ],
            else_=last_tier,
        )
        if checks
        else literal(last_tier)
    )
    field = case(
        (docs.c.id.in_(_matching_rowids(expressions["in_title"])), IN_TITLE),
        (
            docs.c.id.in_(_matching_rowids(expressions["in_title_or_subtitle"])),
            IN_TITLE_OR_SUBTITLE,
        ),
        else_=IN_ANY_FIELD,
    )
    inner = (
        select(*RESULT_COLUMNS, tier.label("tier"), field.label("field"), hits.c.relevance)
        .join(hits, hits.c.doc_id == docs.c.id)
        .where(*conditions)
    )
    greatest = "max" if _has_math_functions() else None
    return await fetch_page(session, ranked(inner, greatest), plan)

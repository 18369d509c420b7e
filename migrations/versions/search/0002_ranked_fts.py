"""search: popularity-ordered index, tags for counting, field gaps

Revision ID: search_0002
Revises: search_0001
Create Date: 2026-11-26

Adds ``rank_key`` (popularity as a sortable integer: the bits of the float32
value) and an index on (rank_key, id), replacing the owner and popularity
indexes. SQLite: the FTS5 table becomes contentless, with rowid
``rank_key << 32 | id`` so FTS5 yields matches most popular first, and a
``tags`` column (kind; "private" and the owner for private rows) so counts
come from the index. PostgreSQL: the tsvector leaves a gap between fields, so
a phrase never spans the title's end and the artist's start.

Existing documents are carried over. Self-contained on purpose: a migration
must not change when application code does.
"""

import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "search_0002"
down_revision: str | Sequence[str] | None = "search_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIELD_GAP = "0fieldgap0"
_BATCH = 1000

# The tokenizer and prefix indexes are those of search_0001.
_FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"


def _float32(value: float) -> float:
    # Adding 0.0 turns -0.0 (whose sign bit would make the largest key) into 0.0.
    clamped = min(max(value, 0.0), 3.0e38) + 0.0
    rounded: float = struct.unpack("<f", struct.pack("<f", clamped))[0]
    return rounded


def _rank_key(value: float) -> int:
    key: int = struct.unpack("<I", struct.pack("<f", _float32(value)))[0]
    return key


def _fill_rank_keys(bind: sa.Connection) -> None:
    docs = sa.table(
        "search_documents",
        sa.column("id", sa.Integer),
        sa.column("popularity", sa.Float),
        sa.column("rank_key", sa.BigInteger),
    )
    rows = bind.execute(sa.select(docs.c.id, docs.c.popularity)).all()
    update = (
        sa.update(docs)
        .where(docs.c.id == sa.bindparam("doc_id"))
        .values(popularity=sa.bindparam("stored"), rank_key=sa.bindparam("key"))
    )
    values = [
        {"doc_id": row.id, "stored": _float32(row.popularity), "key": _rank_key(row.popularity)}
        for row in rows
    ]
    for start in range(0, len(values), _BATCH):
        bind.execute(update, values[start : start + _BATCH])


# --- PostgreSQL ---------------------------------------------------------------------------


def _search_vector(gap: bool) -> sa.Column[str]:
    prefix = f"'{_FIELD_GAP} ' || " if gap else ""
    fields = (
        ("search_fold(title)", "A"),
        (f"{prefix}search_fold(subtitle)", "B"),
        (f"{prefix}search_fold(keywords)", "C"),
    )
    weighted = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, {text}), '{weight}')"
        for text, weight in fields
    )
    expression = f"ts_delete({weighted}, '{_FIELD_GAP}')" if gap else weighted
    return sa.Column(
        "search_vector", postgresql.TSVECTOR(), sa.Computed(expression, persisted=True)
    )


def _replace_search_vector(gap: bool) -> None:
    op.drop_column("search_documents", "search_vector")  # drops its GIN index too
    op.add_column("search_documents", _search_vector(gap))
    op.create_index(
        "ix_search_documents_search_vector",
        "search_documents",
        ["search_vector"],
        postgresql_using="gin",
    )


# --- SQLite -------------------------------------------------------------------------------


def _ranked_fts_values(row: str) -> str:
    """The FTS5 row of a search_documents row (``new``/``old`` in a trigger, or the table)."""
    # Only small doclists: a token on every row would make FTS5 AND and bm25 read it all.
    tags = (
        f"{row}.kind || CASE WHEN {row}.owner_id IS NULL THEN '' "
        f"ELSE ' private o' || {row}.owner_id END"  # owner_id is 32 hex digits on SQLite
    )
    rowid = f"{row}.rank_key * 4294967296 + {row}.id"
    return f"{rowid}, {row}.title, {row}.subtitle, {row}.keywords, {tags}"


def _drop_fts() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS search_documents_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS search_documents_fts")


def _create_triggers(insert_new: str, delete_old: str, update_of: str) -> None:
    op.execute(
        "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents "
        f"BEGIN {insert_new} END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents "
        f"BEGIN {delete_old} END"
    )
    op.execute(
        f"CREATE TRIGGER search_documents_fts_update AFTER UPDATE OF {update_of} "
        f"ON search_documents BEGIN {delete_old} {insert_new} END"
    )


def _create_ranked_fts() -> None:
    # Every statement here is built from constants in this file only.
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_fts USING fts5("
        f"title, subtitle, keywords, tags, content='', {_FTS_OPTIONS})"
    )
    columns = "rowid, title, subtitle, keywords, tags"
    _create_triggers(
        f"INSERT INTO search_documents_fts({columns}) VALUES ({_ranked_fts_values('new')});",  # noqa: S608
        f"INSERT INTO search_documents_fts(search_documents_fts, {columns}) "  # noqa: S608
        f"VALUES ('delete', {_ranked_fts_values('old')});",
        "title, subtitle, keywords, kind, owner_id, rank_key, id",
    )
    op.execute(
        f"INSERT INTO search_documents_fts({columns}) "  # noqa: S608
        f"SELECT {_ranked_fts_values('search_documents')} FROM search_documents"
    )


def _create_content_fts() -> None:
    """search_0001's FTS5 table: external content, rowid = id."""
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, subtitle, keywords, "
        f"content='search_documents', content_rowid='id', {_FTS_OPTIONS})"
    )
    _create_triggers(
        "INSERT INTO search_documents_fts(rowid, title, subtitle, keywords) "
        "VALUES (new.id, new.title, new.subtitle, new.keywords);",
        "INSERT INTO search_documents_fts(search_documents_fts, rowid, title, subtitle, keywords) "
        "VALUES ('delete', old.id, old.title, old.subtitle, old.keywords);",
        "title, subtitle, keywords",
    )
    op.execute("INSERT INTO search_documents_fts(search_documents_fts) VALUES ('rebuild')")


# --- both ---------------------------------------------------------------------------------


def upgrade() -> None:
    bind = op.get_bind()
    is_sqlite = bind.dialect.name == "sqlite"
    if is_sqlite:
        _drop_fts()
    op.add_column(
        "search_documents",
        sa.Column("rank_key", sa.BigInteger(), nullable=False, server_default="0"),
    )
    _fill_rank_keys(bind)
    op.drop_index("ix_search_documents_owner_id", table_name="search_documents")
    op.drop_index("ix_search_documents_popularity", table_name="search_documents")
    op.create_index("ix_search_documents_rank", "search_documents", ["rank_key", "id"])
    if is_sqlite:
        _create_ranked_fts()
    else:
        op.alter_column("search_documents", "rank_key", server_default=None)
        _replace_search_vector(gap=True)


def downgrade() -> None:
    bind = op.get_bind()
    is_sqlite = bind.dialect.name == "sqlite"
    if is_sqlite:
        _drop_fts()
    op.drop_index("ix_search_documents_rank", table_name="search_documents")
    op.drop_column("search_documents", "rank_key")
    op.create_index("ix_search_documents_popularity", "search_documents", ["popularity"])
    op.create_index("ix_search_documents_owner_id", "search_documents", ["owner_id"])
    if is_sqlite:
        _create_content_fts()
    else:
        _replace_search_vector(gap=False)

"""search documents, full-text index and typo index

Revision ID: search_0001
Revises:
Create Date: 2026-11-26

SQLite: an external-content FTS5 table over title/subtitle/keywords, kept in
step by triggers. PostgreSQL: a generated, weighted tsvector column (A title,
B subtitle, C keywords) over ``search_fold`` text, with a GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "search_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("search",)
depends_on: str | Sequence[str] | None = None

# ASCII punctuation becomes a space before parsing, so PostgreSQL's parser does not
# keep "ac/dc", "jay-z" or "a.b" as single tokens where FTS5 and our query parser
# see two words.
_ASCII_PUNCTUATION = r"[!-/:-@\[-`{-~]+"
# Fallback folding without unaccent: common Latin letters to their base letter.
_ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž"
_UNACCENTED = "aaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz"


def _fold_expression(bind: sa.Connection) -> str:
    """unaccent when the extension can be had (it is trusted since PG 13), else a small map."""
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    ).scalar()
    if available:
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        except sa.exc.DBAPIError:
            available = None
    schema = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
    ).scalar()
    if schema:
        # The two-argument form with a qualified dictionary is immutable in practice, which
        # a generated column needs; plain unaccent(text) is only STABLE.
        folded = f"lower({schema}.unaccent('{schema}.unaccent'::regdictionary, value))"
    else:
        folded = f"translate(lower(value), '{_ACCENTED}', '{_UNACCENTED}')"
    return f"regexp_replace({folded}, '{_ASCII_PUNCTUATION}', ' ', 'g')"


def _create_postgresql_objects(bind: sa.Connection) -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        f"AS $$ SELECT {_fold_expression(bind)} $$"
    )


def _search_vector_column() -> sa.Column[str]:
    weighted = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, search_fold({column})), '{weight}')"
        for column, weight in (("title", "A"), ("subtitle", "B"), ("keywords", "C"))
    )
    return sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(weighted, persisted=True))


def _create_sqlite_objects() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, subtitle, keywords, "
        "content='search_documents', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
    insert_new = (
        "INSERT INTO search_documents_fts(rowid, title, subtitle, keywords) "
        "VALUES (new.id, new.title, new.subtitle, new.keywords);"
    )
    delete_old = (
        "INSERT INTO search_documents_fts(search_documents_fts, rowid, title, subtitle, keywords) "
        "VALUES ('delete', old.id, old.title, old.subtitle, old.keywords);"
    )
    op.execute(
        "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents "
        f"BEGIN {insert_new} END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents "
        f"BEGIN {delete_old} END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_fts_update "
        "AFTER UPDATE OF title, subtitle, keywords ON search_documents "
        f"BEGIN {delete_old} {insert_new} END"
    )


def upgrade() -> None:
    bind = op.get_bind()
    is_postgresql = bind.dialect.name == "postgresql"
    if is_postgresql:
        _create_postgresql_objects(bind)
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subtitle", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("popularity", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("tempo_bpm", sa.Float(), nullable=True),
        sa.Column("key", sa.String(2), nullable=True),
        sa.Column("mode", sa.String(5), nullable=True),
        sa.Column("energy", sa.Float(), nullable=True),
        sa.Column("danceability", sa.Float(), nullable=True),
        sa.Column("valence", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *([_search_vector_column()] if is_postgresql else []),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_documents_kind_ref_id")),
    )
    op.create_index(op.f("ix_search_documents_owner_id"), "search_documents", ["owner_id"])
    op.create_index(op.f("ix_search_documents_popularity"), "search_documents", ["popularity"])
    op.create_table(
        "search_term_variants",
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("term", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("variant", "term", name=op.f("pk_search_term_variants")),
        sqlite_with_rowid=False,
    )
    if is_postgresql:
        op.create_index(
            "ix_search_documents_search_vector",
            "search_documents",
            ["search_vector"],
            postgresql_using="gin",
        )
    else:
        _create_sqlite_objects()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_documents_fts")
    op.drop_table("search_term_variants")
    op.drop_table("search_documents")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS search_fold(text)")

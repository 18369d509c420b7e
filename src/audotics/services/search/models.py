"""Tables owned by the search service. It never reads another service's tables.

The full-text structures beside ``search_documents`` are dialect-specific and
created by the migration only: on SQLite a contentless FTS5 table kept in step
by triggers, on PostgreSQL a generated ``search_vector`` tsvector column with a
GIN index. ``search_term_variants`` holds the typo index (see ``tokens``).

Results are ordered by popularity through ``rank_key``, an integer that sorts
like ``popularity``. The FTS5 rowid is ``rank_key << 32 | id``, so FTS5 walks
any match most popular first and stops after the rows it needs.
"""

from __future__ import annotations

import struct
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from audotics.infra.db import Base, utcnow

FTS_TABLE = "search_documents_fts"  # SQLite only
ID_BITS = 32  # FTS5 rowid = rank_key << ID_BITS | id


class SearchDocumentRow(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_search_documents_kind_ref_id"),
        Index("ix_search_documents_rank", "rank_key", "id"),
    )

    # An integer key because FTS5 addresses rows by integer rowid.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    popularity: Mapped[float] = mapped_column(Float)
    rank_key: Mapped[int] = mapped_column(BigInteger)  # see rank_key_of
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    tempo_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    key: Mapped[str | None] = mapped_column(String(2), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(5), nullable=True)
    energy: Mapped[float | None] = mapped_column(Float, nullable=True)
    danceability: Mapped[float | None] = mapped_column(Float, nullable=True)
    valence: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchTermVariant(Base):
    """A vocabulary term under each of its deletion variants (the term itself included).

    Grows with the vocabulary and is not shrunk on removal: a term no document
    holds any more only adds an alternative that matches nothing.
    """

    __tablename__ = "search_term_variants"
    __table_args__ = {"sqlite_with_rowid": False}

    variant: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[str] = mapped_column(String(32), primary_key=True)


def _storable(popularity: float) -> float:
    # Adding 0.0 turns -0.0, whose sign bit would make the largest key, into 0.0.
    return min(max(popularity, 0.0), 3.0e38) + 0.0


def rank_key_of(popularity: float) -> int:
    """A non-negative float32's bits read as an integer sort like the float, in 31 bits."""
    bits: int = struct.unpack("<I", struct.pack("<f", _storable(popularity)))[0]
    return bits


def float32(popularity: float) -> float:
    """The popularity as stored, so that it and its rank_key never disagree on order."""
    rounded: float = struct.unpack("<f", struct.pack("<f", _storable(popularity)))[0]
    return rounded

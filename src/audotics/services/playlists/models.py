"""Tables owned by the playlist service.

``owner_id``, ``track_id``, ``user_id`` and ``added_by`` name rows of other
services; they are plain uuid columns, not foreign keys, so each service can
live in its own database and evolve its tables alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from audotics.infra.db import Base, TimestampMixin, new_id, utcnow

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


class Playlist(TimestampMixin, Base):
    __tablename__ = "playlists"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX_LENGTH), default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="manual")  # "manual" | "generated"
    # How a generated playlist was made (seed, model version...), so it can be regenerated.
    generator: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Optimistic concurrency token: bumped by every mutation, sent as the ETag.
    version: Mapped[int] = mapped_column(Integer, default=1)


class PlaylistItem(Base):
    """One entry; the same track may appear several times, so entries have their own id."""

    __tablename__ = "playlist_items"
    __table_args__ = (
        # No two entries share a place: the database enforces what the lock protocol promises.
        UniqueConstraint("playlist_id", "rank", name="uq_playlist_items_playlist_id_rank"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlists.id", ondelete="CASCADE")
    )
    track_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # Sparse sort key (see repository module docstring); the public position is the index.
    rank: Mapped[int] = mapped_column(BigInteger)
    # None once the user who added the entry deleted their account.
    added_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlaylistCollaborator(Base):
    __tablename__ = "playlist_collaborators"
    __table_args__ = (Index("ix_playlist_collaborators_user_id", "user_id"),)

    playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

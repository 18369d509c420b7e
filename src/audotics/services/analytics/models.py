"""Tables owned by the analytics service.

``user_id``, ``track_id``, ``artist_id``, ``item_id`` and ``follows_user_id``
name rows of other services (users, catalog); they are plain uuid columns, not
foreign keys, so each service can live in its own database. Clean-up when a
user goes runs through the personal-data registry.

- ``listens``: the append-only event log (play, skip, like, unlike, complete).
  ``UNIQUE(user_id, dedup_key)`` makes every submission idempotent.
- ``item_interactions``: one row per (user, item kind, item), maintained in the
  same transaction as every insert into ``listens`` (a listen counts for its
  track and for its artist) and by imported play counts; the collaborative
  filtering matrix is read from here without scanning the log.
- ``play_counts``: imported plays that have no timestamps (Last.fm HetRec,
  count-only CSV rows), one total per (user, item, source). A new total replaces
  the old one and ``item_interactions`` moves by the difference, so re-importing
  the same data changes nothing.
- ``follows``: the social graph (who follows whom), e.g. Last.fm friends.
- ``imported_accounts``: accounts an importer created (and for whom), so a later
  import adds history only to those and never to a look-alike account someone
  signed up for.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from audotics.infra.db import Base, new_id, utcnow

EVENT_MAX_LENGTH = 16
SOURCE_MAX_LENGTH = 64
DEDUP_KEY_MAX_LENGTH = 160
ITEM_KIND_MAX_LENGTH = 16
EXTERNAL_ID_MAX_LENGTH = 200


class Listen(Base):
    __tablename__ = "listens"
    __table_args__ = (
        UniqueConstraint("user_id", "dedup_key", name="uq_listens_user_id_dedup_key"),
        Index("ix_listens_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_listens_track_id", "track_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    track_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The track's artist when the listen was recorded: artist statistics without the catalog.
    artist_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    event: Mapped[str] = mapped_column(String(EVENT_MAX_LENGTH))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    play_duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH))
    dedup_key: Mapped[str] = mapped_column(String(DEDUP_KEY_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ItemInteraction(Base):
    __tablename__ = "item_interactions"
    __table_args__ = (Index("ix_item_interactions_item_kind_item_id", "item_kind", "item_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(ITEM_KIND_MAX_LENGTH), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    plays: Mapped[int] = mapped_column(Integer, default=0)
    completes: Mapped[int] = mapped_column(Integer, default=0)
    skips: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)  # likes minus unlikes
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PlayCount(Base):
    __tablename__ = "play_counts"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(ITEM_KIND_MAX_LENGTH), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH), primary_key=True)
    plays: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_follows_user_id", "follows_user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    follows_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportedAccount(Base):
    __tablename__ = "imported_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

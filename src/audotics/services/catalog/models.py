"""Tables owned by the catalog service.

``tracks.owner_id`` is a plain uuid (no foreign key into the user service): NULL
is the public catalog, a user id is that listener's private upload.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audotics.infra.db import Base, TimestampMixin, new_id

ANALYSIS_NONE = "none"
ANALYSIS_PENDING = "pending"
ANALYSIS_DONE = "done"
ANALYSIS_FAILED = "failed"

track_genres = Table(
    "track_genres",
    Base.metadata,
    Column("track_id", Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", Uuid, ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_track_genres_genre_id", "genre_id"),
)

artist_genres = Table(
    "artist_genres",
    Base.metadata,
    Column("artist_id", Uuid, ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", Uuid, ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_artist_genres_genre_id", "genre_id"),
)


class Genre(TimestampMixin, Base):
    __tablename__ = "genres"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60), unique=True)


class Artist(TimestampMixin, Base):
    __tablename__ = "artists"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    # Unique, so concurrent importers cannot create the same artist twice.
    name_key: Mapped[str] = mapped_column(String(300), unique=True)

    genres: Mapped[list[Genre]] = relationship(
        secondary=artist_genres, lazy="raise", order_by=Genre.name_key, passive_deletes=True
    )


class Album(TimestampMixin, Base):
    __tablename__ = "albums"
    __table_args__ = (Index("ix_albums_artist_id_title_key", "artist_id", "title_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    # Not unique: one artist may release several albums of the same title.
    title_key: Mapped[str] = mapped_column(String(300))
    artist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("artists.id", ondelete="RESTRICT")
    )
    release_year: Mapped[int | None] = mapped_column(Integer, nullable=True)

    artist: Mapped[Artist] = relationship(lazy="raise")


class Track(TimestampMixin, Base):
    __tablename__ = "tracks"
    __table_args__ = (
        Index("ix_tracks_artist_id_title_key", "artist_id", "title_key"),
        Index("ix_tracks_album_id", "album_id"),
        Index("ix_tracks_owner_id", "owner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    title_key: Mapped[str] = mapped_column(String(300))
    artist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("artists.id", ondelete="RESTRICT")
    )
    album_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("albums.id", ondelete="SET NULL"), nullable=True
    )
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    track_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    isrc: Mapped[str | None] = mapped_column(String(12), nullable=True, index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    audio_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    audio_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    audio_content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    audio_etag: Mapped[str | None] = mapped_column(String(128), nullable=True)
    audio_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audio_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audio_sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audio_channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audio_uploaded_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    analysis_status: Mapped[str] = mapped_column(String(16), default=ANALYSIS_NONE)
    # Why the last analysis attempt failed, and attempts since the audio was stored.
    analysis_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    analysis_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    artist: Mapped[Artist] = relationship(lazy="raise")
    album: Mapped[Album | None] = relationship(lazy="raise")
    genres: Mapped[list[Genre]] = relationship(
        secondary=track_genres, lazy="raise", order_by=Genre.name_key, passive_deletes=True
    )

    @property
    def is_public(self) -> bool:
        return self.owner_id is None


class TrackAudioFeatures(Base):
    """What content analysis computed from a track's audio (one row per track)."""

    __tablename__ = "track_audio_features"

    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    analysis_version: Mapped[str] = mapped_column(String(32), index=True)
    tempo_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    tempo_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    key: Mapped[str | None] = mapped_column(String(3), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(5), nullable=True)
    key_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)
    dynamic_range_db: Mapped[float | None] = mapped_column(Float, nullable=True)
    energy: Mapped[float | None] = mapped_column(Float, nullable=True)
    danceability: Mapped[float | None] = mapped_column(Float, nullable=True)
    acousticness: Mapped[float | None] = mapped_column(Float, nullable=True)
    instrumentalness: Mapped[float | None] = mapped_column(Float, nullable=True)
    valence: Mapped[float | None] = mapped_column(Float, nullable=True)
    onset_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    spectral_centroid: Mapped[float | None] = mapped_column(Float, nullable=True)
    spectral_rolloff: Mapped[float | None] = mapped_column(Float, nullable=True)
    spectral_flatness: Mapped[float | None] = mapped_column(Float, nullable=True)
    spectral_bandwidth: Mapped[float | None] = mapped_column(Float, nullable=True)
    zero_crossing_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    chroma: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    mfcc_mean: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    mfcc_var: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    # float32 little-endian vector; its length is fixed per analysis_version.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Which part of the audio was analysed, e.g. {"offset_s": 30.0, "duration_s": 60.0}.
    window: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    analysed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

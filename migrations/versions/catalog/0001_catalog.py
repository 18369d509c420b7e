"""catalog: artists, albums, tracks, genres and track audio features

Revision ID: catalog_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("catalog",)
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "genres",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("name_key", sa.String(60), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genres")),
        sa.UniqueConstraint("name_key", name=op.f("uq_genres_name_key")),
    )
    op.create_table(
        "artists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_key", sa.String(300), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artists")),
        sa.UniqueConstraint("name_key", name=op.f("uq_artists_name_key")),
    )
    op.create_table(
        "albums",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("title_key", sa.String(300), nullable=False),
        sa.Column("artist_id", sa.Uuid(), nullable=False),
        sa.Column("release_year", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_albums_artist_id_artists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_albums")),
    )
    op.create_index("ix_albums_artist_id_title_key", "albums", ["artist_id", "title_key"])
    op.create_table(
        "tracks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("title_key", sa.String(300), nullable=False),
        sa.Column("artist_id", sa.Uuid(), nullable=False),
        sa.Column("album_id", sa.Uuid(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("track_number", sa.Integer(), nullable=True),
        sa.Column("isrc", sa.String(12), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("audio_key", sa.String(512), nullable=True),
        sa.Column("audio_size", sa.BigInteger(), nullable=True),
        sa.Column("audio_content_type", sa.String(100), nullable=True),
        sa.Column("audio_etag", sa.String(128), nullable=True),
        sa.Column("audio_sha256", sa.String(64), nullable=True),
        sa.Column("audio_format", sa.String(32), nullable=True),
        sa.Column("audio_sample_rate", sa.Integer(), nullable=True),
        sa.Column("audio_channels", sa.Integer(), nullable=True),
        sa.Column("audio_uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("analysis_status", sa.String(16), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_tracks_artist_id_artists"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_tracks_album_id_albums"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    op.create_index("ix_tracks_artist_id_title_key", "tracks", ["artist_id", "title_key"])
    op.create_index("ix_tracks_album_id", "tracks", ["album_id"])
    op.create_index("ix_tracks_owner_id", "tracks", ["owner_id"])
    op.create_index(op.f("ix_tracks_isrc"), "tracks", ["isrc"])
    op.create_table(
        "track_genres",
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("genre_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_track_genres_track_id_tracks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["genre_id"],
            ["genres.id"],
            name=op.f("fk_track_genres_genre_id_genres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("track_id", "genre_id", name=op.f("pk_track_genres")),
    )
    op.create_index("ix_track_genres_genre_id", "track_genres", ["genre_id"])
    op.create_table(
        "artist_genres",
        sa.Column("artist_id", sa.Uuid(), nullable=False),
        sa.Column("genre_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_artist_genres_artist_id_artists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["genre_id"],
            ["genres.id"],
            name=op.f("fk_artist_genres_genre_id_genres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artist_id", "genre_id", name=op.f("pk_artist_genres")),
    )
    op.create_index("ix_artist_genres_genre_id", "artist_genres", ["genre_id"])
    op.create_table(
        "track_audio_features",
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("analysis_version", sa.String(32), nullable=False),
        sa.Column("tempo_bpm", sa.Float(), nullable=True),
        sa.Column("tempo_confidence", sa.Float(), nullable=True),
        sa.Column("key", sa.String(3), nullable=True),
        sa.Column("mode", sa.String(5), nullable=True),
        sa.Column("key_confidence", sa.Float(), nullable=True),
        sa.Column("loudness_lufs", sa.Float(), nullable=True),
        sa.Column("dynamic_range_db", sa.Float(), nullable=True),
        sa.Column("energy", sa.Float(), nullable=True),
        sa.Column("danceability", sa.Float(), nullable=True),
        sa.Column("acousticness", sa.Float(), nullable=True),
        sa.Column("instrumentalness", sa.Float(), nullable=True),
        sa.Column("valence", sa.Float(), nullable=True),
        sa.Column("onset_rate", sa.Float(), nullable=True),
        sa.Column("spectral_centroid", sa.Float(), nullable=True),
        sa.Column("spectral_rolloff", sa.Float(), nullable=True),
        sa.Column("spectral_flatness", sa.Float(), nullable=True),
        sa.Column("spectral_bandwidth", sa.Float(), nullable=True),
        sa.Column("zero_crossing_rate", sa.Float(), nullable=True),
        sa.Column("chroma", sa.JSON(), nullable=True),
        sa.Column("mfcc_mean", sa.JSON(), nullable=True),
        sa.Column("mfcc_var", sa.JSON(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("window", sa.JSON(), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_track_audio_features_track_id_tracks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_track_audio_features")),
    )


def downgrade() -> None:
    op.drop_table("track_audio_features")
    op.drop_table("artist_genres")
    op.drop_table("track_genres")
    op.drop_table("tracks")
    op.drop_table("albums")
    op.drop_table("artists")
    op.drop_table("genres")

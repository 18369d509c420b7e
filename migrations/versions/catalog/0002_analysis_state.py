"""catalog: why a track's analysis failed, how often it was attempted

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0002"
down_revision: str | Sequence[str] | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracks") as batch:
        batch.add_column(sa.Column("analysis_error", sa.String(500), nullable=True))
        batch.add_column(
            sa.Column("analysis_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    # `audotics analyze --all` and the similarity index read features by version and time.
    op.create_index("ix_track_audio_features_analysed_at", "track_audio_features", ["analysed_at"])
    op.create_index(
        "ix_track_audio_features_analysis_version", "track_audio_features", ["analysis_version"]
    )


def downgrade() -> None:
    op.drop_index("ix_track_audio_features_analysis_version", "track_audio_features")
    op.drop_index("ix_track_audio_features_analysed_at", "track_audio_features")
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("analysis_attempts")
        batch.drop_column("analysis_error")

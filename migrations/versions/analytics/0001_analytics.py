"""analytics: listens, interaction aggregates, imported play counts, follows, imported accounts

Revision ID: analytics_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("analytics",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("artist_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("play_duration_s", sa.Float(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listens")),
        sa.UniqueConstraint("user_id", "dedup_key", name="uq_listens_user_id_dedup_key"),
    )
    op.create_index("ix_listens_user_id_occurred_at", "listens", ["user_id", "occurred_at"])
    op.create_index("ix_listens_track_id", "listens", ["track_id"])
    op.create_table(
        "item_interactions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("completes", sa.Integer(), nullable=False),
        sa.Column("skips", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "user_id", "item_kind", "item_id", name=op.f("pk_item_interactions")
        ),
    )
    op.create_index(
        "ix_item_interactions_item_kind_item_id", "item_interactions", ["item_kind", "item_id"]
    )
    op.create_table(
        "play_counts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "user_id", "item_kind", "item_id", "source", name=op.f("pk_play_counts")
        ),
    )
    op.create_table(
        "follows",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("follows_user_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "follows_user_id", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_follows_user_id", "follows", ["follows_user_id"])
    op.create_table(
        "imported_accounts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_imported_accounts")),
    )


def downgrade() -> None:
    op.drop_table("imported_accounts")
    op.drop_table("follows")
    op.drop_table("play_counts")
    op.drop_table("item_interactions")
    op.drop_table("listens")

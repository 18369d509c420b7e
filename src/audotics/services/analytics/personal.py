"""The analytics side of the personal-data contract: export and delete everything of a user."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.services.analytics import history, repository
from audotics.services.analytics.history import following


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Every listen, aggregate, imported count and follow edge of the user."""
    listens = await repository.all_listens(session, user_id)
    aggregates = await repository.all_interactions(session, user_id)
    counts = await repository.play_counts_of(session, user_id)
    imported = await repository.imported_account(session, user_id)
    return {
        "listens": [
            {
                "id": str(row.id),
                "track_id": str(row.track_id),
                "artist_id": str(row.artist_id) if row.artist_id else None,
                "event": row.event,
                "occurred_at": _iso(row.occurred_at),
                "play_duration_s": row.play_duration_s,
                "source": row.source,
                "client_key": history.client_key_of(row.dedup_key),
                "recorded_at": _iso(row.created_at),
            }
            for row in listens
        ],
        "interactions": [
            {"item_kind": row.item_kind, "item_id": str(row.item_id), **history.totals(row)}
            | {"last_at": _iso(row.last_at)}
            for row in aggregates
        ],
        "imported_play_counts": [
            {
                "item_kind": row.item_kind,
                "item_id": str(row.item_id),
                "source": row.source,
                "plays": row.plays,
                "imported_at": _iso(row.imported_at),
            }
            for row in counts
        ],
        "following": [str(user) for user in await following(session, user_id)],
        "imported_as": {"source": imported.source, "external_id": imported.external_id}
        if imported
        else None,
    }


async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete the user's listens, aggregates, imported counts, follow edges both ways and
    the note that an importer made the account."""
    await repository.delete_everything_of(session, user_id)

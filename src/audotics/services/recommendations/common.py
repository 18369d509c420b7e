"""Pieces every recommendation function shares: cache-key digests, explanation texts and
the names of the followed people behind social recommendations."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.ml.recommend import Recommendation
from audotics.services.analytics.schemas import Interaction
from audotics.services.catalog.schemas import TrackSummary
from audotics.services.recommendations.serving import ServingState
from audotics.services.users import service as users


def history_digest(rows: Sequence[Interaction]) -> str:
    """A digest of a user's aggregates: any new listen, like or skip changes it."""
    parts = sorted(f"{r.item_id}:{r.plays}:{r.completes}:{r.skips}:{r.likes}" for r in rows)
    return _digest(parts)


def people_digest(people: Sequence[uuid.UUID]) -> str:
    """A digest of whom a user follows: a follow or unfollow changes it."""
    return _digest(sorted(str(person) for person in people))


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def track_name(track: TrackSummary | None) -> str | None:
    return f"{track.title} by {track.artist.name}" if track is not None else None


def personal_text(
    kind: str, track: TrackSummary, seed: TrackSummary | None, friend: str | None = None
) -> str:
    """Why a personal recommendation is there, from the engine's explanation kind."""
    seed_name = track_name(seed)
    if kind == "social":
        return (
            f"{friend}, whom you follow, plays this" if friend else "Popular with people you follow"
        )
    if kind in ("item", "knn") and seed_name:
        return f"Because you played {seed_name}"
    if kind == "graph" and seed_name:
        # The graph walks track -> its listeners -> what they play, so the reason is the
        # seed's fans, not the listener's own play (knn's wording).
        return f"Fans of {seed_name} often play this"
    if kind == "cf":
        return (
            f"Listeners who like {seed_name} play this"
            if seed_name
            else "Popular with listeners like you"
        )
    if kind == "content" and seed_name:
        return f"Similar sound to {seed_name}"
    if kind == "fresh":
        return "New in the catalogue"
    genre = track.genres[0] if track.genres else None
    return f"Popular in {genre}" if genre else "Popular with listeners right now"


def seeded_text(kind: str, seed: TrackSummary | None) -> str:
    """Why a track is near a seed track: the side that contributed most."""
    name = track_name(seed) or "this track"
    if kind == "cf":
        return f"Listeners who like {name} like this too"
    if kind == "knn":
        return f"Listeners of {name} also play this"
    return f"Similar sound to {name}"


async def friend_names(
    session: AsyncSession, state: ServingState, recs: Sequence[Recommendation]
) -> dict[int, str]:
    """Listening row -> username of the followed people behind ``recs`` (active ones)."""
    people = sorted({r.explanation.seed_user for r in recs if r.explanation.seed_user is not None})
    found = await users.public_users(session, [state.user_ids[p] for p in people])
    return {p: found[state.user_ids[p]].username for p in people if state.user_ids[p] in found}

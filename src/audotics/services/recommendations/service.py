"""Personal recommendations for one user: read the row, run the engine, explain in words.

Results are cached per user in the infra cache under a key that includes a digest of
the user's own aggregates, of whom they follow, and the model version, so a new listen
(which changes the aggregates), a follow or a model swap makes the next request compute
afresh: invalidation without a message to miss. The people a user follows are read
fresh too, and their listening (in the serving state) is the social source. Only
tracks the user may see are returned (the public catalogue: the serving item space is
built from public tracks).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.cache.base import Cache
from audotics.ml.recommend import Recommendation
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind
from audotics.services.catalog import service as catalog
from audotics.services.catalog.schemas import TrackSummary
from audotics.services.recommendations.common import (
    friend_names,
    history_digest,
    people_digest,
    personal_text,
)
from audotics.services.recommendations.generate import generate_playlist
from audotics.services.recommendations.schemas import (
    ExplanationKind,
    ExplanationOut,
    Recommendations,
    RecommendedTrack,
)
from audotics.services.recommendations.serving import ServingState, ServingStateCache
from audotics.services.recommendations.serving_data import SnapshotCache
from audotics.services.recommendations.similar import SoundLookup, similar_tracks

__all__ = [
    "MAX_DEPTH",
    "ServingStateCache",
    "SnapshotCache",
    "SoundLookup",
    "generate_playlist",
    "item_snapshots",
    "recommend_for_user",
    "serving_states",
    "similar_tracks",
]

MAX_DEPTH = 500  # offset + limit: deeper pages are not personal any more
CACHE_TTL_S = 600.0
MAX_PER_ARTIST = 2
DIVERSITY = 0.2


def serving_states(app_state: Any) -> ServingStateCache:
    """The application's one serving state cache (``app_state``: the app's state namespace,
    holding the served model as ``model_holder``), made on first use."""
    states: ServingStateCache | None = getattr(app_state, "serving_states", None)
    if states is None:
        states = ServingStateCache(getattr(app_state, "model_holder", None))
        app_state.serving_states = states
    return states


def item_snapshots(app_state: Any) -> SnapshotCache:
    """The application's one catalogue snapshot cache (audio features for mood filters)."""
    snapshots: SnapshotCache | None = getattr(app_state, "item_snapshots", None)
    if snapshots is None:
        snapshots = SnapshotCache()
        app_state.item_snapshots = snapshots
    return snapshots


async def recommend_for_user(
    session: AsyncSession,
    states: ServingStateCache,
    cache: Cache,
    user_id: uuid.UUID,
    *,
    limit: int = 20,
    offset: int = 0,
) -> Recommendations:
    rows = await analytics.interactions(session, ItemKind.track, user_id)
    following = await analytics.following(session, user_id)
    state = await states.get(session)
    digest = f"{history_digest(rows)}:{people_digest(following)}"
    key = f"recs:{user_id}:{digest}:{state.model_version}:{id(state)}:{limit}:{offset}"
    cached = await cache.get(key)
    if cached is not None:
        return Recommendations.model_validate_json(cached)
    row, disliked = state.row(rows)
    social = state.social_source(following, row)
    depth = min(offset + limit, MAX_DEPTH)
    found = state.engine.recommend(
        row,
        depth + 1,
        exclude=disliked,
        diversity=DIVERSITY,
        max_per_artist=MAX_PER_ARTIST,
        per_request=(social,) if social is not None else (),
    )
    page = found[offset:depth]
    ids = [state.track_ids[r.item] for r in page]
    seeds = [
        state.track_ids[r.explanation.seed_item]
        for r in page
        if r.explanation.seed_item is not None
    ]
    summaries = await catalog.get_tracks(session, ids + seeds, user_id)
    friends = await friend_names(session, state, page)
    items = [
        _recommended(rec, track, state, summaries, friends)
        for rec in page
        # None: deleted or made private since the state was built
        if (track := summaries.get(state.track_ids[rec.item])) is not None
    ]
    has_more = len(found) > depth and depth < MAX_DEPTH
    result = Recommendations(
        items=items,
        model_version=state.model_version,
        offset=offset,
        limit=limit,
        next_offset=depth if has_more else None,
    )
    await cache.set(key, result.model_dump_json().encode(), ttl_s=CACHE_TTL_S)
    return result


def _recommended(
    rec: Recommendation,
    track: TrackSummary,
    state: ServingState,
    summaries: dict[uuid.UUID, TrackSummary],
    friends: dict[int, str],
) -> RecommendedTrack:
    """One engine recommendation in words: the history track or followed person behind it."""
    explanation = rec.explanation
    seed = (
        summaries.get(state.track_ids[explanation.seed_item])
        if explanation.seed_item is not None
        else None
    )
    username = friends.get(explanation.seed_user) if explanation.seed_user is not None else None
    return RecommendedTrack(
        track=track,
        score=rec.score,
        explanation=ExplanationOut(
            kind=ExplanationKind(explanation.kind),
            text=personal_text(explanation.kind, track, seed, username),
            seed_track_id=seed.id if seed is not None else None,
            seed_username=username,
        ),
    )

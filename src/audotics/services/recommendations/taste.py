"""Recommendation service functions: the caller's taste profile, cached.

The profile is computed by :func:`audotics.ml.profiles.build_taste_profile` over the
user's latest :data:`PROFILE_EVENTS` events and the metadata of the tracks they
touched (their own private tracks included), read through
:mod:`~audotics.services.recommendations.serving_data`.

Caching and invalidation: the response is stored in the infra cache under
``recommendations:taste:{user}:{history}:{catalog}:{model}``, where the first two
tokens come from ``analytics.history_version`` and ``catalog.catalog_version`` (cheap
aggregate queries) and the last is the served CF model's version. A recorded listen,
an import, a catalog edit or a model swap changes a token, so the next read misses and
recomputes; stale entries just expire (:data:`PROFILE_TTL_S`).
This was chosen over subscribing to ``listen.recorded``: it needs no wiring in the
composition root, is exact across API replicas and processes (no missed or delayed
events), and also covers imports, which do not publish. :func:`invalidate_profile`
drops every cached profile of a user for callers that want it gone immediately.
"""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.cache.base import Cache
from audotics.ml.profiles import TasteProfile, build_taste_profile, engagement_weights
from audotics.ml.recommend.sources import CollaborativeSource
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind
from audotics.services.catalog import service as catalog
from audotics.services.catalog.schemas import ArtistRef, GenreOut
from audotics.services.recommendations.serving import ServingStateCache
from audotics.services.recommendations.serving_data import (
    ItemSnapshot,
    history_arrays,
    load_item_snapshot,
)
from audotics.services.recommendations.taste_schemas import (
    CollaborativeTaste,
    Diversity,
    FeatureSummary,
    ListeningCounts,
    TasteProfileOut,
    TrackRef,
    WeightedArtist,
    WeightedGenre,
    WeightedTrack,
)

PROFILE_EVENTS = 5000
PROFILE_TTL_S = 3600.0
TOP_K = 10
_PREFIX = "recommendations:taste:"


async def taste_profile(
    session: AsyncSession,
    cache: Cache,
    user_id: uuid.UUID,
    states: ServingStateCache | None = None,
) -> TasteProfileOut:
    """The user's taste profile, from the cache when their history has not changed.

    With ``states``, the profile also holds the user's CF factors on the served model
    (and the cache key its version, so a model swap recomputes them)."""
    history = await analytics.history_version(session, user_id)
    items = await catalog.catalog_version(session)
    served = states.holder.current if states is not None and states.holder is not None else None
    model = served.version if served is not None else "-"
    key = f"{_PREFIX}{user_id}:{history}:{items}:{model}"
    cached = await cache.get(key)
    if cached is not None:
        return TasteProfileOut.model_validate_json(cached)
    profile = await compute_taste_profile(session, user_id)
    if states is not None and served is not None:
        profile.collaborative = await collaborative_taste(session, states, user_id)
    await cache.set(key, profile.model_dump_json().encode(), ttl_s=PROFILE_TTL_S)
    return profile


async def collaborative_taste(
    session: AsyncSession, states: ServingStateCache, user_id: uuid.UUID
) -> CollaborativeTaste | None:
    """The user's fold-in on the served model: the vector recommendations are scored with."""
    state = await states.get(session)
    cf = state.engine.sources.get("cf")
    if state.model_version is None or not isinstance(cf, CollaborativeSource):
        return None
    rows = await analytics.interactions(session, ItemKind.track, user_id)
    row, _ = state.row(rows)
    known = cf.model.item_factors[row.indices].any(axis=1) if row.nnz else np.zeros(0, bool)
    vector = cf.user_vector(row)
    return CollaborativeTaste(
        model_version=state.model_version,
        factors=[float(x) for x in vector],
        tracks_in_model=int(np.count_nonzero(known)),
    )


async def invalidate_profile(cache: Cache, user_id: uuid.UUID) -> int:
    return await cache.delete_prefix(f"{_PREFIX}{user_id}:")


async def compute_taste_profile(session: AsyncSession, user_id: uuid.UUID) -> TasteProfileOut:
    """The profile without the cache."""
    records = await analytics.recent_events(session, user_id, limit=PROFILE_EVENTS)
    track_ids = list(dict.fromkeys(record.track_id for record in records))
    snapshot = await load_item_snapshot(session, track_ids=track_ids, viewer_id=user_id)
    history = history_arrays(records, snapshot)
    profile = build_taste_profile(history.user_events(), snapshot.item_metadata(), top_k=TOP_K)
    net = engagement_weights(history.user_events(), len(snapshot))
    return _out(profile, snapshot, net)


def _out(profile: TasteProfile, snapshot: ItemSnapshot, net: np.ndarray) -> TasteProfileOut:
    def artist(index: int) -> ArtistRef:
        return ArtistRef(id=snapshot.artist_ids[index], name=snapshot.artist_names[index])

    top_tracks = [int(i) for i in np.argsort(-net, kind="stable")[:TOP_K] if net[i] > 0]
    return TasteProfileOut(
        counts=ListeningCounts(
            plays=profile.plays,
            events=profile.events,
            distinct_tracks=profile.distinct_tracks,
            distinct_artists=profile.distinct_artists,
            first_listen=profile.first_listen,
            last_listen=profile.last_listen,
        ),
        audio_features=[
            FeatureSummary(
                name=name,
                mean=stats.mean,
                std=stats.std,
                quantiles={f"p{round(q * 100)}": value for q, value in stats.quantiles.items()},
                tracks=stats.n_tracks,
            )
            for name, stats in profile.features.items()
        ],
        sound_centroid=None
        if profile.embedding_centroid is None
        else [float(x) for x in profile.embedding_centroid],
        top_artists=[WeightedArtist(artist=artist(i), weight=w) for i, w in profile.top_artists],
        top_genres=[
            WeightedGenre(
                genre=GenreOut(id=snapshot.genre_ids[i], name=snapshot.genre_names[i]), weight=w
            )
            for i, w in profile.top_genres
        ],
        top_tracks=[
            WeightedTrack(
                track=TrackRef(
                    id=snapshot.track_ids[i],
                    title=snapshot.titles[i],
                    artist=artist(int(snapshot.artist[i])),
                ),
                engagement=float(net[i]),
            )
            for i in top_tracks
        ],
        listening_hours=[int(x) for x in profile.hour_histogram],
        listening_weekdays=[int(x) for x in profile.weekday_histogram],
        diversity=Diversity(
            artist_entropy=profile.artist_entropy,
            genre_entropy=profile.genre_entropy,
            sound_spread=profile.embedding_diversity,
        ),
        novelty=profile.novelty,
    )

"""Tracks similar to one track by listening (CF, co-listening) or by a blend with sound.

``by=cf``: nearest neighbours of the track's item factors in the served CF model
(cosine of the factor rows, on the serving item space of
:mod:`~audotics.services.recommendations.serving`); a track the model does not know
(trained before its first listens) falls back to co-listening, the cosine kNN of
listener columns, which the serving state rebuilds from the live aggregates.

``by=hybrid``: sound (the catalog's sound index, handed in by the caller as
``sound``, or the serving state's embeddings) + CF + co-listening, summed with
weights. Sound always counts 1; the listening sides count
``listening_share(listeners)`` each (:mod:`audotics.ml.recommend.seeded`): 0 for a
track nobody has played (a new track is placed by its sound alone), 1/2 at three
listeners, towards 1 for a well-known track.

Both exclude the seed and the tracks the caller turned down, and return only tracks
the caller may see. Results are cached per caller under a key holding a digest of
their aggregates, the model version, the serving state and the catalog version, so
a listen, a model swap, an edit or a new analysis is seen at the next request.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.cache.base import Cache
from audotics.ml.recommend.seeded import (
    UnitNeighbours,
    blend_sides,
    listening_share,
    sparse_row,
)
from audotics.problems import Conflict, NotFound
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind
from audotics.services.catalog import service as catalog
from audotics.services.catalog.analysis_schemas import (
    SimilarBy,
    SimilarExplanation,
    SimilarReason,
    SimilarTrack,
    SimilarTracks,
)
from audotics.services.recommendations.common import history_digest, seeded_text
from audotics.services.recommendations.serving import ServingState, ServingStateCache

#: Asked for ``n``, the sound index's nearest (track id, cosine) pairs, best first;
#: raises Conflict when the seed has no current analysis.
SoundLookup = Callable[[int], Awaitable[list[tuple[uuid.UUID, float]]]]

CACHE_TTL_S = 600.0
MAX_SIMILAR_DEPTH = 201  # offset + limit + 1 (the route bounds both at 100)
WEIGHTS = {"sound": 1.0, "cf": 1.0, "knn": 1.0}
MAX_EXCLUDED_MARGIN = 300  # extra neighbours fetched to make up for excluded ones


@dataclass(frozen=True)
class Neighbour:
    track_id: uuid.UUID
    score: float
    kind: str  # "sound" | "cf" | "knn"


def no_basis(detail: str) -> Conflict:
    return Conflict(detail, title="Nothing to base it on")


async def _sound_side(
    session: AsyncSession,
    state: ServingState,
    viewer_id: uuid.UUID,
    track_id: uuid.UUID,
    n: int,
    sound: SoundLookup | None,
) -> tuple[dict[uuid.UUID, float], np.ndarray | None]:
    """(neighbours by sound, the seed's sound vector) or ({}, None) without analysis."""
    try:
        seed = await catalog.sound_seed(session, viewer_id, track_id)
    except Conflict:
        return {}, None
    query = np.asarray(seed.vector, dtype=np.float32)
    near = state.sound_neighbours().nearest(query, n)
    found = {state.track_ids[i]: score for i, score in near}
    if sound is not None:
        with contextlib.suppress(Conflict):  # fresher, and the caller's private tracks
            found.update(dict(await sound(n)))
    return found, query


def _cf_side(
    state: ServingState, seed: int | None, n: int
) -> tuple[dict[int, float], np.ndarray | None]:
    """(the seed's CF neighbours, its unit factors) or ({}, None) outside the model."""
    near = state.cf_neighbours()
    if near is None or seed is None or not near.has(seed):
        return {}, None
    query = near.unit[seed]
    return dict(near.nearest(query, n, exclude=[seed])), query


async def seed_neighbours(
    session: AsyncSession,
    state: ServingState,
    viewer_id: uuid.UUID,
    track_id: uuid.UUID,
    by: SimilarBy,
    depth: int,
    *,
    exclude: Collection[uuid.UUID] = (),
    sound: SoundLookup | None = None,
) -> list[Neighbour]:
    """The best ``depth`` neighbours of a track the caller may see (checked by the caller),
    best first, never the track itself or ``exclude``; Conflict when there is nothing to
    go on (cf: no listens and not in the model; hybrid: no listens and no analysis)."""
    seed = state.index_of.get(track_id)
    n = depth + min(len(exclude), MAX_EXCLUDED_MARGIN) + 1
    sides: dict[str, dict[uuid.UUID, float]] = {}
    weights: dict[str, float] = {}
    cf, cf_query = _cf_side(state, seed, n)
    in_model = cf_query is not None
    knn = sparse_row(state.co_listening, seed) if seed is not None else {}
    sound_query: np.ndarray | None = None
    if by is SimilarBy.cf:
        if in_model:
            sides["cf"], weights["cf"] = {state.track_ids[i]: s for i, s in cf.items()}, 1.0
        elif knn:
            sides["knn"], weights["knn"] = {state.track_ids[i]: s for i, s in knn.items()}, 1.0
        else:
            raise no_basis("Nobody has played this track yet, and the model does not know it.")
    else:
        sides["sound"], sound_query = await _sound_side(
            session, state, viewer_id, track_id, n, sound
        )
        weights["sound"] = WEIGHTS["sound"] if sides["sound"] else 0.0
        share = listening_share(float(state.listeners[seed])) if seed is not None else 0.0
        if share > 0:
            sides["cf"] = {state.track_ids[i]: s for i, s in cf.items()}
            sides["knn"] = {state.track_ids[i]: s for i, s in knn.items()}
            weights["cf"] = WEIGHTS["cf"] * share if in_model else 0.0
            weights["knn"] = WEIGHTS["knn"] * share
        if not any(weights.values()):
            raise no_basis("This track has no sound analysis and nobody has played it yet.")
        _fill_in(
            state,
            sides,
            {
                "sound": (state.sound_neighbours(), sound_query),
                "cf": (state.cf_neighbours(), cf_query),
            },
        )
    banned = {track_id, *exclude}
    for scores in sides.values():
        for gone in banned & scores.keys():
            del scores[gone]
    blended = blend_sides(sides, weights, limit=depth)
    return [Neighbour(b.key, b.score, b.kind) for b in blended]


def _fill_in(
    state: ServingState,
    sides: dict[str, dict[uuid.UUID, float]],
    queries: dict[str, tuple[UnitNeighbours | None, np.ndarray | None]],
) -> None:
    """Exact scores of every candidate on every side it was not retrieved by (a side's
    list is its top, so a candidate missing from it still has a real similarity)."""
    candidates = [t for t in set().union(*sides.values()) if t in state.index_of]
    items = np.array([state.index_of[t] for t in candidates], dtype=np.int64)
    for name, (near, query) in queries.items():
        if near is None or query is None or name not in sides or not len(items):
            continue
        side = sides[name]
        for track_id, value in zip(candidates, near.scores(query, items).tolist(), strict=True):
            side.setdefault(track_id, value)


async def similar_tracks(
    session: AsyncSession,
    states: ServingStateCache,
    cache: Cache,
    viewer_id: uuid.UUID,
    track_id: uuid.UUID,
    by: SimilarBy,
    *,
    limit: int = 10,
    offset: int = 0,
    sound: SoundLookup | None = None,
) -> SimilarTracks:
    """``by=cf`` or ``by=hybrid`` (see the module docstring): 404 when the caller may not
    see the track, 409 when there is nothing to base the answer on."""
    if by is SimilarBy.sound:
        raise ValueError("by=sound is the catalog's sound index")
    if not await catalog.track_visible(session, track_id, viewer_id):
        raise NotFound(f"No track {track_id}.")
    rows = await analytics.interactions(session, ItemKind.track, viewer_id)
    state = await states.get(session)
    catalog_token = await catalog.catalog_version(session)  # edits, deletions, analyses
    key = (
        f"similar:{viewer_id}:{track_id}:{by.value}:{history_digest(rows)}:"
        f"{state.model_version}:{id(state)}:{catalog_token}:{limit}:{offset}"
    )
    cached = await cache.get(key)
    if cached is not None:
        return SimilarTracks.model_validate_json(cached)
    _, disliked = state.row(rows)
    depth = min(offset + limit + 1, MAX_SIMILAR_DEPTH)
    found = await seed_neighbours(
        session,
        state,
        viewer_id,
        track_id,
        by,
        depth,
        exclude={state.track_ids[i] for i in disliked},
        sound=sound,
    )
    ids = [track_id] + [n.track_id for n in found]
    summaries = await catalog.get_tracks(session, ids, viewer_id)
    seed = summaries.get(track_id)
    visible = [n for n in found if n.track_id in summaries and n.track_id != track_id]
    page = visible[offset : offset + limit]
    result = SimilarTracks(
        seed_id=track_id,
        by=by,
        items=[
            SimilarTrack(
                track=summaries[n.track_id],
                score=n.score,
                explanation=SimilarExplanation(
                    kind=SimilarReason(n.kind), text=seeded_text(n.kind, seed)
                ),
            )
            for n in page
        ],
        offset=offset,
        limit=limit,
        next_offset=offset + limit if len(visible) > offset + limit else None,
        model_version=state.model_version,
    )
    await cache.set(key, result.model_dump_json().encode(), ttl_s=CACHE_TTL_S)
    return result

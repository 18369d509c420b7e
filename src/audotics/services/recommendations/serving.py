"""The serving side of the recommendation engine: item space, sources and per-user rows.

:class:`ServingState` is built from other services' public functions only:
everyone's track interaction aggregates (analytics: co-listening and popularity),
the sound embeddings (catalog: the content side), everyone's listening rows (for
the people a user follows: the social source), the served CF model (the
registry's current version, hot-swapped by :class:`ModelHolder`) and the track
summaries (catalog: artists for the artist cap, names for explanations). It is
rebuilt when older than ``ttl_s`` or when the served model changes, off the event
loop, while requests keep using the previous state.

A user's row is read fresh on every request from their own aggregates, so a listen
is reflected in the very next response: the CF vector is a fold-in of that row,
not the factors of the last training run.

Play counts are weighted as in the measured offline hybrid (ADR 0007, "play counts
relative to the user"): the co-listening kNN is fitted on everyone's within-user ranks,
and knn, graph and content score the request's rank row (``RelativeRowSource``, one
shared memo, so the row is ranked once per request); CF and popularity read ``log1p``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.ml.cf.confidence import ConfidenceWeights
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.registry import ModelHolder, ServedModel
from audotics.ml.recommend import BlendWeights, RecommendationEngine
from audotics.ml.recommend.neighbours import (
    RP3_ALPHA,
    RP3_BETA,
    cosine_neighbours,
    rp3beta_neighbours,
)
from audotics.ml.recommend.relative import log_weighted, relative_rows, relative_views
from audotics.ml.recommend.seeded import UnitNeighbours, unit_rows
from audotics.ml.recommend.social import FollowedListening, SocialSource
from audotics.ml.recommend.sources import (
    CollaborativeSource,
    ContentSource,
    ItemItemSource,
    PopularitySource,
    Source,
)
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import Interaction, ItemKind
from audotics.services.catalog import features as catalog_features
from audotics.services.catalog import service as catalog
from audotics.services.catalog.schemas import TrackSummary

#: Serving weights: the HetRec validation optimum (cf 1, co-listening 1 + 0.5, content
#: 2, social 0.25) with a stronger popularity prior for the cold start of a small catalogue.
#: ``graph`` (RP3beta): the seed-0 HetRec tuning picked cf 2, item 1, graph 1, content 4,
#: social 0.5, i.e. graph at half the CF weight -- the ratio social already has here
#: (0.25 : 1), so 0.5. The product has no EASE (a dense inverse of the item Gram
#: matrix); ``knn`` stands in for ``item`` as the cheap co-listening source and stays.
SERVING_WEIGHTS = BlendWeights(
    cf=1.0,
    item=0.0,
    knn=1.0,
    graph=0.5,
    content=1.0,
    popularity=1.0,
    social=0.25,
    half_history=5.0,
)
#: RP3beta neighbours per track, as the offline hybrid keeps (its exponents: neighbours.RP3_*).
GRAPH_NEIGHBOURS = 200
#: How the item sources (knn, graph, content) read a user's play counts: within-user ranks,
#: as the measured offline hybrid (``hybrid.USER_RELATIVE_KIND`` for its "items" group,
#: ADR 0007): knn is fitted on the rank matrix, and the three score the request's rank row.
#: CF (the served ALS model) and popularity read the log1p row.
ITEM_ROWS_KIND = "rank"
#: Everyone a user follows weighs at least this share of the best-matching one's taste
#: weight, so a follow with no listening in common still shows (ADR 0007, social).
FOLLOW_FLOOR = 0.1


def net_weight(row: Interaction, weights: ConfidenceWeights) -> float:
    """The documented event weighting (ml/cf/confidence.py) applied to one aggregate."""
    return (
        weights.play * row.plays
        + weights.complete * row.completes
        + weights.like * row.likes
        + weights.skip * row.skips
    )


@dataclass(eq=False)
class ServingState:
    engine: RecommendationEngine
    track_ids: tuple[uuid.UUID, ...]
    index_of: dict[uuid.UUID, int]
    model_version: str | None
    built_at: float
    # The pieces seeded recommendations (similar tracks, radio) read, on the same item space:
    cf_unit: np.ndarray | None  # (items, f) the served model's item factors, unit rows (0: unknown)
    # (items, items) cosine kNN of the listener columns of the within-user rank matrix: the
    # knn source's own matrix, so similar tracks and radio read what recommendations do
    co_listening: sparse.csr_matrix
    listeners: np.ndarray  # (items,) distinct listeners with a positive net weight
    sound: np.ndarray  # (items, d) unit sound embeddings, zero rows where unanalysed
    item_artist: np.ndarray  # (items,) artist index
    # The social side: everyone's listening rows, to score the people a user follows.
    user_ids: tuple[uuid.UUID, ...]  # listening row -> user
    user_index: dict[uuid.UUID, int]
    followed_listening: FollowedListening
    # Indexed cosine neighbours over ``cf_unit`` and ``sound`` (build_state makes them; a
    # state made by hand without them scans the arrays, exactly).
    cf_nearest: UnitNeighbours | None = None
    sound_nearest: UnitNeighbours | None = None

    def cf_neighbours(self) -> UnitNeighbours | None:
        if self.cf_nearest is None and self.cf_unit is not None:
            self.cf_nearest = UnitNeighbours(self.cf_unit, ann_above=len(self.cf_unit))
        return self.cf_nearest

    def sound_neighbours(self) -> UnitNeighbours:
        if self.sound_nearest is None:
            self.sound_nearest = UnitNeighbours(self.sound, ann_above=len(self.sound))
        return self.sound_nearest

    def social_source(
        self, following: Sequence[uuid.UUID], row: sparse.csr_matrix
    ) -> SocialSource | None:
        """The "people you follow" source over ``following`` (fresh from analytics), taste-
        weighted against the user's current ``row``; None when none of them has listened."""
        people = sorted({self.user_index[p] for p in following if p in self.user_index})
        if not people:
            return None
        return self.followed_listening.source(np.array(people, dtype=np.int64), user_row=row)

    def row(self, rows: Sequence[Interaction]) -> tuple[sparse.csr_matrix, list[int]]:
        """The user's history row and the items they turned against (net weight <= 0)."""
        weights = ConfidenceWeights()
        items, values, disliked = [], [], []
        for interaction in rows:
            index = self.index_of.get(interaction.item_id)
            if index is None:
                continue
            weight = net_weight(interaction, weights)
            if weight > 0:
                items.append(index)
                values.append(weight)
            else:
                disliked.append(index)
        return self.engine.history_row(items, values), disliked


def _aligned_factors(model: FactorModel, track_ids: Sequence[uuid.UUID]) -> FactorModel:
    """The model's item factors laid out on the serving item space (zeros where unknown)."""
    position = {item: i for i, item in enumerate(model.item_ids)}
    factors = np.zeros((len(track_ids), model.item_factors.shape[1]), dtype=np.float32)
    for i, track_id in enumerate(track_ids):
        j = position.get(str(track_id))
        if j is not None:
            factors[i] = model.item_factors[j]
    return FactorModel(
        user_factors=np.zeros((0, factors.shape[1]), np.float32),
        item_factors=factors,
        params=model.params,
        kind=model.kind,
    )


def build_state(
    interactions: Sequence[Interaction],
    embeddings: Sequence[catalog_features.SoundEmbedding],
    summaries: dict[uuid.UUID, TrackSummary],
    served: ServedModel | None,
) -> ServingState:
    """Pure computation over what the services returned (runs in a worker thread)."""
    track_ids = sorted(
        {row.item_id for row in interactions} | {e.track_id for e in embeddings} | set(summaries)
    )
    track_ids = [t for t in track_ids if t in summaries]  # only tracks the catalog knows
    index_of = {track_id: i for i, track_id in enumerate(track_ids)}
    users: dict[uuid.UUID, int] = {}
    cells_user, cells_item, cells_value = [], [], []
    weights = ConfidenceWeights()
    for row in interactions:
        item = index_of.get(row.item_id)
        weight = net_weight(row, weights)
        if item is None or weight <= 0:
            continue
        cells_user.append(users.setdefault(row.user_id, len(users)))
        cells_item.append(item)
        cells_value.append(weight)
    n_items = len(track_ids)
    net = sparse.csr_matrix(
        (np.asarray(cells_value, dtype=np.float64), (cells_user, cells_item)),
        shape=(max(len(users), 1), n_items),
    )
    matrix = log_weighted(net)  # log1p rows: the graph's walk, listener counts, social side
    # The item sources read each user's counts as within-user ranks (ADR 0007); ``scale``
    # turns a request's log1p row into the same rank row (RelativeRowSource).
    ranks, scale = relative_rows(net, kind=ITEM_ROWS_KIND)
    sources: list[Source] = []
    aligned = _aligned_factors(served.model, track_ids) if served is not None else None
    if aligned is not None:
        sources.append(CollaborativeSource(aligned))
    knn = ItemItemSource(cosine_neighbours(ranks, 100), name="knn")
    co_listening = knn.similarity  # similar tracks and radio read the knn source's matrix
    item_sources: list[Source] = [knn]
    # The item -> listener -> item walk on the same listening: it discounts co-listens by
    # heavy listeners and popular targets, which the cosine does not (~0.8x the cosine's
    # build time at 100k items x 10k users). Its walk reads only who listened (0/1 edges),
    # so it is fitted on the log1p rows as offline; it scores the rank row like knn.
    item_graph = rp3beta_neighbours(matrix, RP3_ALPHA, RP3_BETA, GRAPH_NEIGHBOURS)
    item_sources.append(ItemItemSource(item_graph, name="graph"))
    content: ContentSource | None = None
    vectors = np.zeros((n_items, 1), dtype=np.float32)
    if embeddings:
        dim = len(embeddings[0].vector)
        vectors = np.zeros((n_items, dim), dtype=np.float32)
        for embedding in embeddings:
            i = index_of.get(embedding.track_id)
            if i is not None and len(embedding.vector) == dim:
                vectors[i] = embedding.vector
        content = ContentSource(vectors)
        item_sources.append(content)
    # One shared memo: the request's rank row is computed once for knn, graph and content.
    sources.extend(relative_views(item_sources, scale, ITEM_ROWS_KIND))
    listeners = np.asarray((matrix > 0).sum(axis=0)).ravel()
    # The unwrapped content source: popularity's genre affinity reads the log1p row, as
    # offline (build_engine), where it was not among the measured groups.
    sources.append(PopularitySource(listeners, content))
    artists: dict[uuid.UUID, int] = {}
    item_artist = np.array(
        [artists.setdefault(summaries[t].artist.id, len(artists)) for t in track_ids],
        dtype=np.int64,
    )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    engine = RecommendationEngine(
        sources,
        SERVING_WEIGHTS,
        n_items=n_items,
        item_artist=item_artist,
        item_vectors=unit,
    )
    cf_unit = unit_rows(aligned.item_factors) if aligned is not None else None
    # Similar tracks and radio look up a seed's nearest through indexes (the sound one is
    # the content source's own: the same unit rows).
    cf_nearest = UnitNeighbours(cf_unit) if cf_unit is not None else None
    sound_nearest = UnitNeighbours(unit, index=content.index if content is not None else None)
    if n_items:  # loads (first time: compiles) the request kernels here, not in a request
        engine.recommend(engine.history_row([0]), 1, diversity=0.2, max_per_artist=2)
    return ServingState(
        engine=engine,
        track_ids=tuple(track_ids),
        index_of=index_of,
        model_version=served.version if served is not None else None,
        built_at=time.monotonic(),
        cf_unit=cf_unit,
        co_listening=co_listening,
        listeners=listeners,
        sound=unit,
        item_artist=item_artist,
        user_ids=tuple(users),  # insertion order is row order
        user_index=users,
        followed_listening=FollowedListening(matrix, floor=FOLLOW_FLOOR),
        cf_nearest=cf_nearest,
        sound_nearest=sound_nearest,
    )


class ServingStateCache:
    """One :class:`ServingState` per application, rebuilt on a TTL or a model swap."""

    def __init__(self, holder: ModelHolder | None, ttl_s: float = 300.0) -> None:
        self.holder = holder
        self.ttl_s = ttl_s
        self._state: ServingState | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._state = None

    def _fresh(self, state: ServingState | None) -> bool:
        if state is None:
            return False
        served = self.holder.current if self.holder is not None else None
        version = served.version if served is not None else None
        return state.model_version == version and time.monotonic() - state.built_at < self.ttl_s

    async def get(self, session: AsyncSession) -> ServingState:
        state = self._state
        if self._fresh(state):
            assert state is not None
            return state
        async with self._lock:
            if self._fresh(self._state):
                assert self._state is not None
                return self._state
            served = self.holder.current if self.holder is not None else None
            rows = await analytics.interactions(session, ItemKind.track)
            embeddings = await catalog.sound_embeddings(session)
            ids = {row.item_id for row in rows} | {e.track_id for e in embeddings}
            summaries = await catalog.get_tracks(session, list(ids), None)
            self._state = await asyncio.to_thread(build_state, rows, embeddings, summaries, served)
            return self._state

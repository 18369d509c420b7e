"""The ``hybrid`` model of the offline evaluation: the serving engine, built from training data.

It is :class:`audotics.ml.recommend.engine.RecommendationEngine` itself (same
retrieval, blending and sources as the API), assembled from the training matrix:

* ``cf``: implicit ALS on the confidence matrix (64 factors, lambda = 25 * alpha,
  alpha 2: the optimum of the ALS grid on HetRec validation, see tuning.py), with one
  pseudo-user per tag when the dataset has tags (:func:`tag_pseudo_users`);
* ``item``: EASE weights (relative lambda 6, top 4000 items) sparsified to each
  item's 200 strongest neighbours; with tags, fitted on the listening stacked with the
  tag tf-idf (``ease_neighbours(side=...)``, Jeunen et al. 2020);
* ``content``: tag tf-idf (``Interactions.item_tags``) when the dataset has tags --
  of the data being fitted, so without the tags of its held-out (user, item) pairs
  (``Interactions.select``); in tuning, of validation-train; audio features in the product;
* ``knn``: cosine item-kNN on the listener columns (100 neighbours), which reaches
  the long tail that EASE's top-4000 items cannot;
* ``graph``: RP3beta (alpha 1, beta 0.3, 200 neighbours), the item -> listener -> item
  random walk with a popularity penalty (+0.6 % validation nDCG, ADR 0007);
* ``popularity``: log listeners, weighted by tag affinity once a user has history;
* play counts: ``item`` and ``knn`` are fitted on, and ``item``, ``knn``,
  ``graph`` and ``content`` score, each user's within-user rank of their counts
  (:func:`relative_rows`, :class:`RelativeRowSource` over the engine's log1p row);
  ``cf`` keeps ``1 + alpha log1p(w)``;
* ``social`` (when the dataset has follows, HetRec's friends): the training listening
  of the people the user follows (:mod:`audotics.ml.recommend.social`). The engine's
  sources score a history row and this one needs the user, so it is passed per request
  (``per_request``): its top items join the candidates and its z-score is blended with
  the ``social`` weight of the grid. Only training cells are read -- in tuning only the
  validation-train cells -- so a friend's held-out listens never leak.

The blend weights (:class:`BlendWeights`) are chosen by a grid search on the
validation split that :class:`TrainData` carves out of the training data: the
engine is built on the validation-train part, every user's candidates and
standardised source scores are computed once, and each weight combination is
scored by nDCG@k on those cached candidates (all users at once, ``_CandidateGrid``).
With ``HybridModel(folds=K)`` on a random split, K independent validation resplits each
get their own engine and candidates, and the grid point with the best mean over all
their users wins. The test split is never seen.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from audotics.ml.cf.train import ALSParams, train_als
from audotics.ml.evaluate import tuning as _baselines  # noqa: F401  (registered first)
from audotics.ml.evaluate.models import ModelOptions, TrainData, register_model
from audotics.ml.recommend.engine import (
    BlendWeights,
    Candidates,
    RecommendationEngine,
)
from audotics.ml.recommend.neighbours import (
    RP3_ALPHA,
    RP3_BETA,
    cosine_neighbours,
    ease_neighbours,
    rp3beta_neighbours,
)
from audotics.ml.recommend.relative import (  # log_weighted: re-exported for callers
    RelativeRowSource,
    log_weighted,
    relative_rows,
)
from audotics.ml.recommend.social import SocialGraph, SocialSource
from audotics.ml.recommend.sources import (
    CollaborativeSource,
    ContentSource,
    ItemItemSource,
    PopularitySource,
    Source,
    _RowMemo,
)

WEIGHT_GRID: dict[str, tuple[float, ...]] = {
    "cf": (0.5, 1.0, 2.0),
    "knn": (0.0, 0.5, 1.0),
    "graph": (0.0, 1.0, 2.0),
    "content": (1.0, 2.0, 4.0),
    "popularity": (0.0, 1.0),
    "half_history": (10.0,),
    "social": (0.0, 0.125, 0.25, 0.5),
}
QUICK_GRID: dict[str, tuple[float, ...]] = {
    "cf": (0.5, 1.0),
    "knn": (0.0, 0.5),
    "graph": (0.0, 0.5),
    "content": (0.0, 0.3),
    "popularity": (0.0, 0.5),
    "half_history": (5.0,),
    "social": (0.0, 0.25),
}
# Independent validation resplits the weight grid is scored on (mean nDCG@k over all
# their users). 3 folds measured (ADR 0007): the folds rank the grid alike, test moved
# by <= +0.4 % on three seeds for 3x the tuning time, so one fold stays the default.
VALIDATION_FOLDS = 1
SOCIAL_RETRIEVE = 100  # social candidates added to the engine's pool
SOCIAL_TWO_HOP = 0.0  # weight of friends of friends (see SocialGraph)
# Tags as side information of the collaborative models (ADR 0007, 2026-12-03 leak-free
# tags): EASE's Gram gains TAG_EASE_WEIGHT x its mean diagonal x the items' tag cosine;
# ALS sees one pseudo-user per tag, its cells TAG_ALS_SCALE x the mean confidence.
TAG_EASE_WEIGHT = 1.0
TAG_ALS_SCALE = 0.25
# Which sources read a user's play counts relative to that user's own counts
# (``relative_rows``) instead of log1p of the raw counts: "cf" (ALS confidence and
# fold-in), "items" (EASE and kNN fits, and the rows item, knn, graph and content score).
# Adopted (ADR 0007, "play counts relative to the user"): the item sources read the
# within-user rank, +0.65 % validation nDCG (cross) on three ALS seeds; ALS
# relative confidences were within ALS-seed noise, so CF keeps log1p.
RELATIVE_GROUPS = frozenset({"cf", "items"})
USER_RELATIVE: frozenset[str] = frozenset({"items"})
USER_RELATIVE_KIND = "rank"


def tag_tfidf(item_tags: sparse.csr_matrix) -> sparse.csr_matrix:
    """log(1 + count) * log(n_items / items with the tag)."""
    counts = sparse.csr_matrix(item_tags, dtype=np.float32)
    df = np.asarray((counts > 0).sum(axis=0)).ravel().astype(np.float64)
    idf = np.log(counts.shape[0] / np.maximum(df, 1.0)).astype(np.float32)
    tf = counts.copy()
    tf.data = np.log1p(tf.data)
    return sparse.csr_matrix(tf @ sparse.diags(idf))


def tag_pseudo_users(
    confidence: sparse.csr_matrix, item_tags: sparse.spmatrix, scale: float
) -> sparse.csr_matrix:
    """``confidence`` (users x items) with one pseudo-user row per tag on two or more items.

    A tag's row holds log(1 + count) on the items it was given to, rescaled so its mean
    cell is ``scale`` times the mean confidence: collective factorisation of listening
    and tags, so items tagged alike get close factors even with few listeners. Real
    users keep their row indices (the pseudo-users come after them).
    """
    by_tag = sparse.csr_matrix(item_tags, dtype=np.float32).T.tocsr()
    by_tag = by_tag[np.asarray((by_tag > 0).sum(axis=1)).ravel() >= 2]
    by_tag.data = np.log1p(np.maximum(by_tag.data, 0.0))
    by_tag.eliminate_zeros()
    users = sparse.csr_matrix(confidence, dtype=np.float32)
    if by_tag.nnz == 0 or users.nnz == 0 or scale <= 0:
        return users
    factor = scale * float(users.data.mean()) / float(by_tag.data.mean())
    return sparse.csr_matrix(sparse.vstack([users, by_tag * factor]))


def build_engine(
    data: TrainData,
    *,
    content: sparse.spmatrix | np.ndarray | None = None,
    tags: sparse.spmatrix | None = None,
    weights: BlendWeights | None = None,
    quick: bool = False,
    seed: int = 0,
    relative: frozenset[str] | None = None,
    relative_kind: str | None = None,
) -> RecommendationEngine:
    """The engine on ``data``; ``tags`` (items x tags counts of this data) also enter the
    collaborative models as side information (ALS pseudo-users, EASE side Gram).

    ``relative`` (default :data:`USER_RELATIVE`): the source groups of
    :data:`RELATIVE_GROUPS` that read play counts relative to each user's own
    (:func:`relative_rows` of ``relative_kind``, default :data:`USER_RELATIVE_KIND`;
    :class:`RelativeRowSource`); the engine itself is still given ``log1p`` rows, as in
    the product."""
    relative = USER_RELATIVE if relative is None else frozenset(relative)
    kind = USER_RELATIVE_KIND if relative_kind is None else relative_kind
    if not relative <= RELATIVE_GROUPS:
        raise ValueError(f"relative must be a subset of {sorted(RELATIVE_GROUPS)}")
    rows = log_weighted(data.net)
    scale = 1.0
    if relative:
        relative_train, scale = relative_rows(data.net, kind=kind)
    listeners = np.asarray((rows > 0).sum(axis=0)).ravel()
    alpha = 2.0
    if "cf" in relative:
        confidence = relative_train.copy()
        confidence.data = 1.0 + alpha * confidence.data
    else:
        confidence = data.confidence(alpha)
    if tags is not None and tags.nnz:
        confidence = tag_pseudo_users(confidence, tags, TAG_ALS_SCALE)
    als = train_als(
        confidence,
        ALSParams(
            factors=32 if quick else 64,
            regularization=25.0 * alpha,
            iterations=8 if quick else 15,
            seed=seed,
        ),
        extra_params=data.weights.with_alpha(alpha).to_dict(),
    )
    item_rows = relative_train if "items" in relative else rows

    shared = _RowMemo()  # the relative row is computed once per request for all views

    def view(source: Source, group: str) -> Source:
        if group not in relative:
            return source
        return RelativeRowSource(source, scale, kind, memo=shared)

    sources: list[Source] = [
        view(CollaborativeSource(als), "cf"),
        view(
            ItemItemSource(
                ease_neighbours(
                    item_rows,
                    6.0,
                    1500 if quick else 4000,
                    100 if quick else 200,
                    side=tag_tfidf(tags) if tags is not None and tags.nnz else None,
                    side_weight=TAG_EASE_WEIGHT,
                )
            ),
            "items",
        ),
        view(ItemItemSource(cosine_neighbours(item_rows, 100), name="knn"), "items"),
        view(
            ItemItemSource(
                rp3beta_neighbours(rows, RP3_ALPHA, RP3_BETA, 100 if quick else 200),
                name="graph",
            ),
            "items",
        ),
    ]
    content_source = None
    if content is not None:
        content_source = ContentSource(content)
        sources.append(view(content_source, "items"))
    # Popularity's tag affinity reads the log1p row (it is not among the measured groups).
    sources.append(PopularitySource(listeners, content_source))
    return RecommendationEngine(
        sources, weights, n_items=data.n_items, retrieve_of={"social": SOCIAL_RETRIEVE}
    )


def _ndcg(ranked: np.ndarray, relevant: set[int], k: int) -> float:
    if not relevant:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.array([int(item) in relevant for item in ranked[:k]], dtype=np.float64)
    ideal = discounts[: min(len(relevant), k)].sum()
    return float((gains * discounts[: len(gains)]).sum() / ideal)


def hybrid_candidates(
    engine: RecommendationEngine, row: sparse.csr_matrix, social: SocialSource | None
) -> Candidates:
    """The engine's candidate set, with the user's social source when they have one."""
    return engine.candidates(row, per_request=(social,) if social is not None else ())


class _CandidateGrid:
    """Every user's cached candidates as padded arrays, so one grid point is scored for
    all users by a few array operations (``Candidates.blend`` per user is the reference,
    see the unit test): z (sources x users x pool), gains (users x pool)."""

    def __init__(self, cached: Sequence[tuple[Candidates, set[int]]], k: int) -> None:
        self.k = k
        self.names = tuple(dict.fromkeys(name for c, _ in cached for name in c.sources))
        width = max((len(c.items) for c, _ in cached), default=0)
        width = max(width, k)
        self.z = np.zeros((len(self.names), len(cached), width), dtype=np.float32)
        self.gains = np.zeros((len(cached), width), dtype=np.float32)
        self.valid = np.zeros((len(cached), width), dtype=bool)
        self.n_history = np.array([c.n_history for c, _ in cached], dtype=np.int64)
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        self.discounts = discounts
        self.ideal = np.array([discounts[: min(len(r), k)].sum() for _, r in cached])
        for user, (candidates, relevant) in enumerate(cached):
            size = len(candidates.items)
            for position, name in enumerate(candidates.sources):
                self.z[self.names.index(name), user, :size] = candidates.z[position]
            self.valid[user, :size] = True
            self.gains[user, :size] = np.isin(candidates.items, list(relevant))

    def ndcg(self, weights: BlendWeights) -> float:
        if len(self.ideal) == 0:
            return 0.0
        sizes, which = np.unique(self.n_history, return_inverse=True)
        per_size = np.array(
            [[weights.for_history(int(n))[name] for name in self.names] for n in sizes],
            dtype=np.float32,
        )
        per_user = per_size[which]
        blended = np.zeros(self.valid.shape, dtype=np.float32)
        for position in range(len(self.names)):
            blended += per_user[:, position, None] * self.z[position]
        blended[~self.valid] = -np.inf
        # The k best per user: a partition, then a sort of those k only.
        best = np.argpartition(-blended, self.k - 1, axis=1)[:, : self.k]
        order = np.argsort(-np.take_along_axis(blended, best, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(best, order, axis=1)
        hits = np.take_along_axis(self.gains, top, axis=1) * np.take_along_axis(
            self.valid, top, axis=1
        )
        scores = np.divide(
            hits @ self.discounts, self.ideal, out=np.zeros(len(self.ideal)), where=self.ideal > 0
        )
        return float(scores.mean())


def tune_weights(
    folds: Sequence[Sequence[tuple[Candidates, set[int]]]],
    grid: dict[str, tuple[float, ...]],
    k: int,
) -> tuple[BlendWeights, list[dict[str, Any]]]:
    """The grid point with the best mean nDCG@k over every validation fold's users, on
    their cached candidates (item weight = 1). With several folds each log entry also
    holds the per-fold means (``folds``)."""
    keys = list(grid)
    scorers = [_CandidateGrid(cached, k) for cached in folds]
    sizes = np.array([len(cached) for cached in folds], dtype=np.float64)
    total = max(float(sizes.sum()), 1.0)
    log: list[dict[str, Any]] = []
    best, best_score = BlendWeights(), -1.0
    for values in itertools.product(*grid.values()):
        point = dict(zip(keys, values, strict=True))
        weights = BlendWeights(**point)
        per_fold = [scorer.ndcg(weights) for scorer in scorers]
        mean = float(np.dot(per_fold, sizes) / total)
        entry: dict[str, Any] = {**point, f"ndcg@{k}": mean}
        if len(scorers) > 1:
            entry["folds"] = per_fold
        log.append(entry)
        if mean > best_score:
            best, best_score = weights, mean
    return best, log


class HybridModel:
    """Adapter of the engine to the evaluation's :class:`Recommender` protocol."""

    name = "hybrid"

    def __init__(
        self,
        options: ModelOptions,
        max_validation_users: int = 3000,
        content: sparse.spmatrix | np.ndarray | None = None,
        folds: int | None = None,
        relative: frozenset[str] | None = None,
        relative_kind: str | None = None,
    ) -> None:
        if folds is not None and folds < 1:
            raise ValueError("folds must be >= 1")
        # Source groups reading play counts relative to the user's median (build_engine).
        self.relative = USER_RELATIVE if relative is None else frozenset(relative)
        self.relative_kind = USER_RELATIVE_KIND if relative_kind is None else relative_kind
        self.options = options
        self.folds = folds  # validation folds for the weight grid; None = the default
        self.validation_folds = 0  # how many tuned the weights in the last fit
        self.content = content  # item vectors; default: the dataset's tags (tf-idf)
        self.max_validation_users = max_validation_users
        self.engine: RecommendationEngine | None = None
        self.weights = BlendWeights()
        self.graph: SocialGraph | None = None
        self.log: list[dict[str, Any]] = []
        self._rows = sparse.csr_matrix((0, 0), dtype=np.float32)
        self.tuning_seconds = 0.0

    def _content(self, data: TrainData) -> sparse.spmatrix | np.ndarray | None:
        if self.content is not None:
            return self.content
        tags = self._tags(data)
        return tag_tfidf(tags) if tags is not None else None

    @staticmethod
    def _tags(data: TrainData) -> sparse.csr_matrix | None:
        """This data's item-tag counts (without its held-out pairs' tags), if any."""
        tags = data.interactions.item_tags
        return tags if tags is not None and tags.nnz else None

    def _fold_candidates(
        self, v_train: TrainData, v_relevant: sparse.csr_matrix
    ) -> tuple[list[tuple[Candidates, set[int]]], bool]:
        """One validation fold's cached candidates (engine on its validation-train), and
        whether it had a social graph."""
        # Tags of validation-train only: the validation pairs' own tags stay out.
        engine = build_engine(
            v_train,
            content=self._content(v_train),
            tags=self._tags(v_train),
            quick=self.options.quick,
            seed=self.options.seed,
            relative=self.relative,
            relative_kind=self.relative_kind,
        )
        users = np.flatnonzero(np.asarray(v_relevant.getnnz(axis=1)) > 0)
        if len(users) > self.max_validation_users:
            rng = np.random.default_rng(self.options.seed)
            users = np.sort(rng.choice(users, self.max_validation_users, replace=False))
        rows = log_weighted(v_train.net)
        v_graph = _social_graph(v_train, rows)  # validation-train listening only
        cached = [
            (
                hybrid_candidates(
                    engine, rows[user], v_graph.for_user(int(user)) if v_graph else None
                ),
                set(v_relevant[user].indices.tolist()),
            )
            for user in users
        ]
        return cached, v_graph is not None

    def n_folds(self, data: TrainData) -> int:
        """How many validation folds tune the weights on ``data``: the model's ``folds``
        (default 1 in quick mode, else :data:`VALIDATION_FOLDS`), at most as many as
        the split protocol can draw."""
        wanted = (
            self.folds
            if self.folds is not None
            else (1 if self.options.quick else VALIDATION_FOLDS)
        )
        available = data.validation_folds
        return max(1, wanted if available is None else min(wanted, available))

    def fit(self, data: TrainData) -> None:
        grid = QUICK_GRID if self.options.quick else WEIGHT_GRID
        if data.validation is not None:
            started = time.perf_counter()
            self.validation_folds = self.n_folds(data)
            folds: list[list[tuple[Candidates, set[int]]]] = []
            social = False
            for fold in range(self.validation_folds):
                # One fold at a time: only its candidates outlive its engine.
                cached, social = self._fold_candidates(*data.validation(fold))
                folds.append(cached)
            if not social:
                grid = {key: values for key, values in grid.items() if key != "social"}
            self.weights, self.log = tune_weights(folds, grid, self.options.k)
            self.tuning_seconds = time.perf_counter() - started
        self.engine = build_engine(
            data,
            content=self._content(data),
            tags=self._tags(data),
            weights=self.weights,
            quick=self.options.quick,
            seed=self.options.seed,
            relative=self.relative,
            relative_kind=self.relative_kind,
        )
        self._rows = log_weighted(data.net)
        self.graph = _social_graph(data, self._rows) if self.weights.social > 0 else None

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.engine is not None, "fit first"
        out = np.full((len(users), self.engine.n_items), -np.inf, dtype=np.float32)
        for position, user in enumerate(users):
            social = self.graph.for_user(int(user)) if self.graph is not None else None
            candidates = hybrid_candidates(self.engine, self._rows[int(user)], social)
            out[position, candidates.items] = candidates.blend(self.weights)[0]
        return out

    def describe(self) -> dict[str, Any]:
        described = self.engine.describe() if self.engine is not None else {}
        return {
            **described,
            "social_weight": self.weights.social,
            "tuning_seconds": self.tuning_seconds,
            "validation_folds": self.validation_folds,
            "user_relative": sorted(self.relative),
            "user_relative_kind": self.relative_kind,
            "grid": self.log,
        }


def _social_graph(data: TrainData, rows: sparse.csr_matrix) -> SocialGraph | None:
    """The follows over ``rows`` (this data's own training listening), if any."""
    if data.follows is None or data.follows.nnz == 0:
        return None
    return SocialGraph(data.follows, rows, two_hop=SOCIAL_TWO_HOP)


register_model("hybrid", HybridModel)

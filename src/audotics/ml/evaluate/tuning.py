"""Hyper-parameter grids tuned on a validation split, and the default model registry.

:class:`GridSearch` is itself a :class:`Recommender`: ``fit`` carves a validation
split out of the training data (same protocol as the test split, see
:meth:`Split.validation`), fits every grid point on the validation-train part,
scores nDCG@k on the validation users (a deterministic sample of at most
``max_users``), then refits the best point on the full training data. The
validation data never contains test events.

Default grids (``quick`` shrinks each to a couple of points for tests):

* ALS: factors {64, 128} x regularisation {25, 50, 100} x alpha {2, 4} = 12 points
  (15 iterations). The regularisation values look large next to implicit's default
  (0.01): implicit does not scale lambda by the number of ratings, and with
  confidences ``1 + alpha * log(1 + w)`` the optimum measured on HetRec lies around
  lambda = 25 * alpha (alpha 1 and lambda 10 or 200 were tried and always lost).
* EASE: lambda {2, 6, 16} x the mean diagonal of the Gram matrix (top 4000 items).
* item-kNN: neighbours {100, 300, 1000}.
* BPR and popularity are not tuned (BPR: 64 factors, lr 0.005, reg 0.01, 300 epochs:
  the best of a few settings tried on HetRec; BPR trails ALS there whatever we tried).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from audotics.ml.evaluate.metrics import ndcg_at_k
from audotics.ml.evaluate.models import (
    ALS,
    BPR,
    EASE,
    ItemKNN,
    ModelOptions,
    Popularity,
    Recommender,
    TrainData,
    register_model,
    top_k_lists,
)


class GridSearch:
    """Pick the grid point with the best validation nDCG@k, then refit on all data."""

    def __init__(
        self,
        name: str,
        build: Callable[..., Recommender],
        grid: Mapping[str, Sequence[Any]],
        *,
        k: int = 10,
        max_users: int = 3000,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.build = build
        self.grid = grid
        self.k = k
        self.max_users = max_users
        self.seed = seed
        self.best: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []
        self.model: Recommender | None = None

    def points(self) -> list[dict[str, Any]]:
        keys = list(self.grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]

    def fit(self, data: TrainData) -> None:
        points = self.points()
        if len(points) > 1 and data.validation is not None:
            v_train, v_relevant = data.validation(0)
            users = np.flatnonzero(np.asarray(v_relevant.getnnz(axis=1)) > 0)
            if len(users) > self.max_users:
                rng = np.random.default_rng(self.seed)
                users = np.sort(rng.choice(users, self.max_users, replace=False))
            seen = v_train.positives()
            relevant = v_relevant[users]
            best_score = -1.0
            for point in points:
                started = time.perf_counter()
                candidate = self.build(**point)
                candidate.fit(v_train)
                lists = top_k_lists(candidate, users, seen, self.k)
                score = float(ndcg_at_k(lists, relevant, self.k).mean()) if len(users) else 0.0
                self.log.append(
                    {**point, f"ndcg@{self.k}": score, "seconds": time.perf_counter() - started}
                )
                if score > best_score:
                    best_score, self.best = score, point
        else:
            self.best = points[0]
        self.model = self.build(**self.best)
        self.model.fit(data)

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.score(users)

    def describe(self) -> dict[str, Any]:
        described = self.model.describe() if self.model is not None else {}
        return {**described, "tuned": self.best, "grid": self.log}


def _als(options: ModelOptions) -> Recommender:
    grid: dict[str, Sequence[Any]] = (
        {"factors": [32], "regularization": [0.5, 5.0], "alpha": [2.0]}
        if options.quick
        else {"factors": [64, 128], "regularization": [25.0, 50.0, 100.0], "alpha": [2.0, 4.0]}
    )

    def build(**point: Any) -> Recommender:
        return ALS(iterations=10 if options.quick else 15, seed=options.seed, **point)

    return GridSearch("als", build, grid, k=options.k, seed=options.seed)


def _ease(options: ModelOptions) -> Recommender:
    grid = {"regularization": [2.0, 6.0] if options.quick else [2.0, 6.0, 16.0]}
    max_items = 1500 if options.quick else 4000

    def build(**point: Any) -> Recommender:
        return EASE(max_items=max_items, **point)

    return GridSearch("ease", build, grid, k=options.k, seed=options.seed)


def _knn(options: ModelOptions) -> Recommender:
    grid = {"neighbours": [100] if options.quick else [100, 300, 1000]}
    return GridSearch("item-knn", ItemKNN, grid, k=options.k, seed=options.seed)


def _bpr(options: ModelOptions) -> Recommender:
    if options.quick:
        return BPR(factors=32, iterations=30, seed=options.seed)
    return BPR(factors=64, learning_rate=0.005, iterations=300, seed=options.seed)


register_model("popularity", lambda options: Popularity())
register_model("item-knn", _knn)
register_model("ease", _ease)
register_model("als", _als)
register_model("bpr", _bpr)

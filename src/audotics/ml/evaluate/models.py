"""Recommenders under evaluation: the baselines and the collaborative models.

Every model implements :class:`Recommender`: ``fit(TrainData)`` then
``score(users) -> (len(users), n_items)`` float32 scores, higher is better,
``-inf`` for items the model cannot recommend. The runner removes each user's
training items and takes the top k. Models:

* ``popularity`` -- number of training listeners per item, the same list for all.
* ``item-knn`` -- item-based kNN: cosine similarity between item columns of the
  log-weighted training matrix (``log1p(w)``), each item keeping its ``neighbours``
  most similar items (sparse, vectorised); score(u, j) = sum over the user's items i
  of w_ui * sim(i, j) for j's neighbours i.
* ``ease`` -- EASE (Steck 2019): B = I - P / diag(P) with P = (X^T X + lambda I)^-1,
  dense, on X = log1p(w) of the positive cells (``weighting="binary"``: X = 0/1; log
  weights scored +0.006 nDCG@10 on HetRec). ``regularization`` is relative: lambda =
  regularization * mean(diag(X^T X)), so one grid fits datasets of any size and
  weighting (on HetRec the best absolute lambda, ~3000, is ~6x the mean diagonal).
  The Gram matrix is n_items^2 floats and the inverse costs n_items^3, so only the
  ``max_items`` most popular training items take part (default 4000: 128 MB in
  float64, ~4 s of CPU to invert); other items score -inf. On the HetRec training
  split that is every artist with at least three listeners (6000 items, all with two
  or more, cost 3.4x the time for +0.003 nDCG).
* ``als`` -- implicit ALS on the confidence matrix (:mod:`audotics.ml.cf.confidence`).
* ``bpr`` -- implicit BPR on the positive cells.

:data:`MODEL_REGISTRY` maps names to factories taking :class:`ModelOptions`; the
default factories wrap the tunable models in a grid search
(:mod:`audotics.ml.evaluate.tuning`). Other models (the hybrid) join with
:func:`register_model`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights, confidence_from_weights, positive_items
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.train import ALSParams, BPRParams, train_als, train_bpr
from audotics.ml.datasets.interactions import Interactions
from audotics.ml.recommend.neighbours import top_k_per_row


class ValidationSplit(Protocol):
    """Carves (validation train, validation relevance) out of a :class:`TrainData`;
    ``fold`` picks one of several independent draws (0 = the default split)."""

    def __call__(self, fold: int = 0) -> tuple[TrainData, sparse.csr_matrix]: ...


@dataclass(frozen=True, eq=False)
class TrainData:
    """What a model may learn from: the training log and its net-weight matrix."""

    interactions: Interactions
    net: sparse.csr_matrix  # (users x items) net event weights, may hold <= 0 cells
    weights: ConfidenceWeights = field(default_factory=ConfidenceWeights)
    seed: int = 0
    #: carves (validation train, validation relevance) out of this data, for tuning
    validation: ValidationSplit | None = None
    #: how many different splits ``validation(fold)`` can draw: None = any number (a
    #: random protocol), 1 = one (time-ordered: every fold is the same split)
    validation_folds: int | None = 1
    #: (users x users) who follows whom, when the dataset has it (HetRec friends); not
    #: split: a follow is not an interaction, the held-out listens stay out of ``net``
    follows: sparse.csr_matrix | None = None

    @property
    def n_users(self) -> int:
        return int(self.net.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.net.shape[1])

    def confidence(self, alpha: float | None = None) -> sparse.csr_matrix:
        weights = self.weights if alpha is None else self.weights.with_alpha(alpha)
        return confidence_from_weights(self.net, weights)

    def positives(self) -> sparse.csr_matrix:
        return positive_items(self.net)


class Recommender(Protocol):
    name: str

    def fit(self, data: TrainData) -> None: ...

    def score(self, users: np.ndarray) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class ModelOptions:
    seed: int = 0
    quick: bool = False
    k: int = 10


class Popularity:
    name = "popularity"

    def __init__(self) -> None:
        self._counts = np.zeros(0, dtype=np.float32)

    def fit(self, data: TrainData) -> None:
        self._counts = np.asarray(data.positives().sum(axis=0), dtype=np.float32).ravel()

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self._counts, (len(users), 1))

    def describe(self) -> dict[str, Any]:
        return {}


def _log_weighted(net: sparse.csr_matrix) -> sparse.csr_matrix:
    """log1p of the positive net weights; other cells dropped."""
    weighted = net.tocsr(copy=True).astype(np.float32)
    weighted.data = np.where(weighted.data > 0, np.log1p(np.maximum(weighted.data, 0)), 0)
    weighted.eliminate_zeros()
    return weighted


class ItemKNN:
    name = "item-knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours
        self._user_items = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._sim_t = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainData) -> None:
        weighted = _log_weighted(data.net)
        items = weighted.T.tocsr()
        norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        unit = sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ items)
        sim = sparse.csr_matrix(unit @ unit.T)
        sim.setdiag(0)
        sim.eliminate_zeros()
        # Row i keeps i's neighbours; transposed, column j holds j's neighbours.
        self._sim_t = top_k_per_row(sim, self.neighbours).T.tocsr()
        self._user_items = weighted

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self._user_items[users] @ self._sim_t.T).toarray(), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours, "weighting": "log1p(w)"}


class EASE:
    name = "ease"

    def __init__(
        self, regularization: float = 6.0, max_items: int = 4000, weighting: str = "log"
    ) -> None:
        self.regularization = regularization  # a multiple of the mean diagonal of X^T X
        self.max_items = max_items
        self.weighting = weighting
        self.effective_lambda = 0.0
        self._items = np.zeros(0, dtype=np.int64)
        self._b = np.zeros((0, 0), dtype=np.float32)
        self._x = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._n_items = 0

    def fit(self, data: TrainData) -> None:
        positives = data.positives()
        listeners = np.asarray(positives.sum(axis=0)).ravel()
        ranked = np.argsort(-listeners, kind="stable")
        ranked = ranked[listeners[ranked] > 0][: self.max_items]
        self._items = np.sort(ranked)
        source = positives if self.weighting == "binary" else _log_weighted(data.net)
        x = source[:, self._items].astype(np.float64)
        gram = np.asarray((x.T @ x).toarray())
        diagonal = np.diag(gram)
        self.effective_lambda = self.regularization * float(diagonal.mean() if diagonal.size else 0)
        gram[np.diag_indices_from(gram)] += max(self.effective_lambda, 1e-6)
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self._b = b.astype(np.float32)
        self._x = x.astype(np.float32).tocsr()
        self._n_items = data.n_items

    def score(self, users: np.ndarray) -> np.ndarray:
        out = np.full((len(users), self._n_items), -np.inf, dtype=np.float32)
        out[:, self._items] = np.asarray(self._x[users] @ self._b)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "regularization": self.regularization,
            "lambda": self.effective_lambda,
            "max_items": self.max_items,
            "weighting": self.weighting,
            "items_used": len(self._items),
        }


class ALS:
    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        self.params = ALSParams(factors, regularization, iterations, seed)
        self.alpha = alpha
        self.model: FactorModel | None = None

    def fit(self, data: TrainData) -> None:
        weights = data.weights.with_alpha(self.alpha)
        self.model = train_als(
            data.confidence(self.alpha),
            self.params,
            item_ids=data.interactions.item_ids,
            extra_params=weights.to_dict(),
        )

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.score_users(users).astype(np.float32, copy=False)

    def describe(self) -> dict[str, Any]:
        return {**self.params.to_dict(), "alpha": self.alpha}


class BPR:
    name = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        seed: int = 0,
    ) -> None:
        self.params = BPRParams(factors, learning_rate, regularization, iterations, seed)
        self.model: FactorModel | None = None

    def fit(self, data: TrainData) -> None:
        self.model = train_bpr(data.positives(), self.params, item_ids=data.interactions.item_ids)

    def score(self, users: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.score_users(users).astype(np.float32, copy=False)

    def describe(self) -> dict[str, Any]:
        return self.params.to_dict()


def top_k_lists(
    model: Recommender,
    users: np.ndarray,
    seen: sparse.csr_matrix,
    k: int,
    batch: int = 512,
) -> np.ndarray:
    """(len(users), k) best items per user, excluding ``seen`` cells; -1 where the model
    has fewer than k recommendable items."""
    out = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        scores = np.array(model.score(chunk), dtype=np.float32, copy=True)
        block = seen[chunk].tocoo()
        scores[block.row, block.col] = -np.inf
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        best = np.take_along_axis(part, order, axis=1)
        best_scores = np.take_along_axis(part_scores, order, axis=1)
        best[~np.isfinite(best_scores)] = -1
        out[start : start + len(chunk), :kk] = best
    return out


ModelFactory = Callable[[ModelOptions], Recommender]
MODEL_REGISTRY: dict[str, ModelFactory] = {}


def register_model(name: str, factory: ModelFactory) -> None:
    """Add (or replace) a model the runner can evaluate by name."""
    MODEL_REGISTRY[name] = factory


def build_models(names: list[str] | None, options: ModelOptions) -> list[Recommender]:
    """Instantiate registered models by name (all of them, in registration order, if None)."""
    # Registering the defaults (baselines first, then the hybrid: the table's order).
    from audotics.ml.evaluate import hybrid, tuning  # noqa: F401

    chosen = list(MODEL_REGISTRY) if names is None else names
    unknown = [name for name in chosen if name not in MODEL_REGISTRY]
    if unknown:
        raise ValueError(f"unknown models {unknown}; known: {sorted(MODEL_REGISTRY)}")
    return [MODEL_REGISTRY[name](options) for name in chosen]

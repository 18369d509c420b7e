"""Run every model on the same split and measure them with the same metrics.

Protocol: models train on the split's training events (as a net-weight matrix,
see :mod:`audotics.ml.cf.confidence`); for each test user with at least one
training item and one relevant test item, the top k items the user has not
listened to in training are compared with the relevant items -- the test items
with positive net weight that were not already positive in training. Tuned
models carve their validation split from the training events only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights, net_weights, positive_items
from audotics.ml.datasets.hetrec import load_follows
from audotics.ml.datasets.interactions import Interactions, load_interactions
from audotics.ml.evaluate import metrics
from audotics.ml.evaluate.models import (
    ModelOptions,
    Recommender,
    TrainData,
    build_models,
    top_k_lists,
)
from audotics.ml.evaluate.splits import Split, global_temporal, leave_last_out, random_holdout

SPLITS = ("auto", "leave-last-out", "temporal", "random")


@dataclass
class ModelResult:
    name: str
    metrics: dict[str, float]
    train_seconds: float
    score_seconds: float
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluationResult:
    dataset: str
    split: str
    k: int
    seed: int
    n_users: int
    n_items: int
    n_train_events: int
    n_test_events: int
    n_users_evaluated: int
    models: dict[str, ModelResult]
    total_seconds: float = 0.0
    parse_issues: int = 0


def relevance(
    test: Interactions, train_net: sparse.csr_matrix, weights: ConfidenceWeights
) -> sparse.csr_matrix:
    """(users x items) 0/1: positive in test and not already positive in train."""
    test_pos = positive_items(net_weights(test, weights))
    seen = positive_items(train_net)
    fresh = test_pos - test_pos.multiply(seen)
    fresh = sparse.csr_matrix(fresh)
    fresh.eliminate_zeros()
    return fresh


def _train_data(
    split: Split,
    weights: ConfidenceWeights,
    seed: int,
    follows: sparse.csr_matrix | None = None,
) -> tuple[TrainData, sparse.csr_matrix]:
    net = net_weights(split.train, weights)

    def validation(fold: int = 0) -> tuple[TrainData, sparse.csr_matrix]:
        inner = split.validation(fold)
        inner_net = net_weights(inner.train, weights)
        return (
            TrainData(inner.train, inner_net, weights, seed, follows=follows),
            relevance(inner.test, inner_net, weights),
        )

    data = TrainData(
        split.train,
        net,
        weights,
        seed,
        validation=validation,
        validation_folds=None if split.random_folds else 1,
        follows=follows,
    )
    return data, relevance(split.test, net, weights)


def run_evaluation(
    interactions: Interactions,
    split: Split | Callable[[Interactions], Split],
    models: Sequence[str | Recommender] | None = None,
    k: int = 10,
    *,
    weights: ConfidenceWeights | None = None,
    seed: int = 0,
    quick: bool = False,
    dataset: str = "",
    progress: Callable[[str], None] | None = None,
    follows: sparse.csr_matrix | None = None,
) -> EvaluationResult:
    """Fit and measure ``models`` (names from the registry or instances; default: all).

    ``follows`` (users x users, row u = whom u follows) reaches the models that use it.
    """
    started = time.perf_counter()
    weights = weights or ConfidenceWeights()
    if not isinstance(split, Split):
        split = split(interactions)
    options = ModelOptions(seed=seed, quick=quick, k=k)
    if models is None:
        instances = build_models(None, options)
    else:
        instances = [build_models([m], options)[0] if isinstance(m, str) else m for m in models]
    data, relevant = _train_data(split, weights, seed, follows)
    train_pos = data.positives()
    has_train = np.asarray(train_pos.getnnz(axis=1)) > 0
    users = np.flatnonzero((np.asarray(relevant.getnnz(axis=1)) > 0) & has_train)
    relevant_users = relevant[users]
    popularity = metrics.item_popularity(train_pos)
    vectors = metrics.colistening_vectors(train_pos)
    results: dict[str, ModelResult] = {}
    for model in instances:
        if progress is not None:
            progress(f"training {model.name}")
        fit_started = time.perf_counter()
        model.fit(data)
        fitted = time.perf_counter()
        lists = top_k_lists(model, users, train_pos, k)
        scored = time.perf_counter()
        diversity = metrics.intra_list_diversity(lists, vectors)
        values = {
            f"ndcg@{k}": metrics.ndcg_at_k(lists, relevant_users, k).mean(),
            f"recall@{k}": metrics.recall_at_k(lists, relevant_users, k).mean(),
            f"precision@{k}": metrics.precision_at_k(lists, relevant_users, k).mean(),
            f"map@{k}": metrics.map_at_k(lists, relevant_users, k).mean(),
            f"coverage@{k}": metrics.catalogue_coverage(lists, interactions.n_items),
            f"diversity@{k}": np.nanmean(diversity) if np.isfinite(diversity).any() else 0.0,
            f"novelty@{k}": metrics.novelty(lists, popularity).mean(),
        }
        results[model.name] = ModelResult(
            name=model.name,
            metrics={key: float(value) if len(users) else 0.0 for key, value in values.items()},
            train_seconds=fitted - fit_started,
            score_seconds=scored - fitted,
            params=model.describe(),
        )
    return EvaluationResult(
        dataset=dataset,
        split=split.name,
        k=k,
        seed=seed,
        n_users=interactions.n_users,
        n_items=interactions.n_items,
        n_train_events=len(split.train),
        n_test_events=len(split.test),
        n_users_evaluated=len(users),
        models=results,
        total_seconds=time.perf_counter() - started,
        parse_issues=len(interactions.issues),
    )


def make_split(interactions: Interactions, kind: str = "auto", seed: int = 0) -> Split:
    """``auto``: leave-last-out when the log has times, else a 20 % random holdout."""
    if kind == "auto":
        kind = "leave-last-out" if interactions.has_timestamps else "random"
    if kind == "leave-last-out":
        return leave_last_out(interactions, n=1)
    if kind == "temporal":
        return global_temporal(interactions, test_fraction=0.2)
    if kind == "random":
        return random_holdout(interactions, fraction=0.2, seed=seed)
    raise ValueError(f"unknown split {kind!r}; expected one of {', '.join(SPLITS)}")


def evaluate_dataset(
    path: str | Path,
    format: str,
    *,
    k: int = 10,
    seed: int = 0,
    quick: bool = False,
    split: str = "auto",
    models: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Load a dataset in any importer format and evaluate the registered models on it."""
    interactions = load_interactions(path, format)
    if len(interactions) == 0:
        raise ValueError(f"no usable listens in {path} ({len(interactions.issues)} bad rows)")
    chosen = make_split(interactions, split, seed)
    follows = load_follows(path, interactions.user_ids) if format == "lastfm-hetrec" else None
    return run_evaluation(
        interactions,
        chosen,
        models,
        k,
        seed=seed,
        quick=quick,
        dataset=f"{Path(path).name} ({format})",
        progress=progress,
        follows=follows,
    )

"""Confidence weighting, ALS/BPR training, fold-in and model serialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.cf import (
    ALSParams,
    BPRParams,
    ConfidenceWeights,
    FactorModel,
    build_confidence,
    net_weights,
    top_n,
    train_als,
    train_bpr,
)
from audotics.ml.datasets import ListenRecord, SyntheticData, from_records, generate_synthetic


@pytest.fixture(scope="module")
def synthetic() -> SyntheticData:
    return generate_synthetic(600, 800, seed=7)


@pytest.fixture(scope="module")
def als(synthetic: SyntheticData) -> tuple[FactorModel, sparse.csr_matrix]:
    weights = ConfidenceWeights(alpha=2.0)
    matrix = build_confidence(synthetic.interactions, weights)
    model = train_als(
        matrix,
        ALSParams(factors=32, regularization=1.0, iterations=15),
        extra_params=weights.to_dict(),
    )
    return model, matrix


def test_confidence_weighting_is_the_documented_one() -> None:
    log = from_records(
        [
            ListenRecord("u", "a", "x", None, count=2),
            ListenRecord("u", "a", "x", None, event="complete"),
            ListenRecord("u", "a", "x", None, event="like"),
            ListenRecord("u", "a", "y", None),
            ListenRecord("u", "a", "y", None, event="skip", count=2),
            ListenRecord("u", "a", "z", None, count=10),
            ListenRecord("u", "a", "w", None, event="like"),
            ListenRecord("u", "a", "w", None, event="unlike"),
        ]
    )
    weights = ConfidenceWeights(alpha=3.0, eps=2.0)
    assert net_weights(log, weights).toarray().tolist() == [[2 + 1.5 + 4, 1 - 2, 10, 0]]
    matrix = build_confidence(log, weights)
    assert matrix.dtype == np.float32
    assert matrix.nnz == 2  # y (skipped more than played) and w (unliked) carry nothing
    assert matrix[0, 0] == pytest.approx(1 + 3 * math.log(1 + 7.5 / 2))
    assert matrix[0, 2] == pytest.approx(1 + 3 * math.log(1 + 10 / 2))
    penal = build_confidence(log, ConfidenceWeights(alpha=3.0, eps=2.0, penalize_negative=True))
    assert penal[0, 1] == pytest.approx(-(1 + 3 * math.log(1 + 1 / 2)))
    assert penal[0, 3] == 0


def test_training_is_reproducible(synthetic: SyntheticData) -> None:
    matrix = build_confidence(synthetic.interactions)
    params = ALSParams(factors=16, iterations=3, seed=5)
    a, b = train_als(matrix, params), train_als(matrix, params)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert a.item_factors.shape == (800, 16) and a.user_factors.shape == (600, 16)
    assert a.params["factors"] == 16 and a.metrics["train_seconds"] >= 0
    bpr = train_bpr(matrix, BPRParams(factors=15, iterations=5, seed=1))
    assert bpr.kind == "bpr"
    assert bpr.score_users(np.array([0, 1])).shape == (2, 800)


def test_fold_in_recovers_the_trained_user_vector(
    als: tuple[FactorModel, sparse.csr_matrix],
) -> None:
    model, matrix = als
    for user in range(0, 600, 11):
        row = matrix[user]
        folded = model.fold_in(row.indices, row.data)
        trained = model.user_factors[user]
        cosine = folded @ trained / (np.linalg.norm(folded) * np.linalg.norm(trained))
        assert cosine > 0.95, (user, cosine)


def test_fold_in_matches_implicits_recalculate_user(
    als: tuple[FactorModel, sparse.csr_matrix],
) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    model, matrix = als
    reference = AlternatingLeastSquares(
        factors=32, regularization=model.regularization, num_threads=1
    )
    reference.item_factors = model.item_factors.copy()
    reference.user_factors = model.user_factors.copy()
    rows = sparse.csr_matrix(matrix[[3, 4]])
    rows.data[0] = -rows.data[0]  # a disliked item: preference 0 with that confidence
    expected = reference.recalculate_user([3, 4], rows)
    for i in range(2):
        row = rows[i]
        assert np.allclose(model.fold_in(row.indices, row.data), expected[i], atol=1e-4)


def test_a_new_user_with_three_plays_gets_their_cluster(
    synthetic: SyntheticData, als: tuple[FactorModel, sparse.csr_matrix]
) -> None:
    model, _ = als
    rng = np.random.default_rng(0)
    shares = []
    for cluster in range(synthetic.n_clusters):
        members = np.flatnonzero(synthetic.item_cluster == cluster)
        weights = synthetic.item_popularity[members] / synthetic.item_popularity[members].sum()
        for _ in range(3):
            seeds = rng.choice(members, 3, replace=False, p=weights)
            items, _scores = model.recommend_vector(model.fold_in(seeds), 10, exclude=seeds)
            assert not set(items.tolist()) & set(seeds.tolist())
            shares.append(np.mean(synthetic.item_cluster[items] == cluster))
    chance = 1 / synthetic.n_clusters
    assert np.mean(shares) > 0.7 > 5 * chance
    assert min(shares) >= 0.3


def test_recommend_is_the_exact_top_n(als: tuple[FactorModel, sparse.csr_matrix]) -> None:
    model, matrix = als
    seen = matrix[5].indices
    items, scores = model.recommend(5, n=20, exclude=seen)
    brute = model.item_factors @ model.user_factors[5]
    brute[seen] = -np.inf
    assert items.tolist() == np.argsort(-brute, kind="stable")[:20].tolist()
    assert np.all(np.diff(scores) <= 0)
    assert top_n(np.array([1.0, 3.0, 2.0]), 5, exclude=[1])[0].tolist() == [2, 0]


def test_model_bytes_round_trip(als: tuple[FactorModel, sparse.csr_matrix]) -> None:
    model, _ = als
    model.item_ids = tuple(f"t{i}" for i in range(model.n_items))
    model.metrics["ndcg@10"] = 0.5
    restored = FactorModel.from_bytes(model.to_bytes())
    assert np.array_equal(restored.item_factors, model.item_factors)
    assert np.array_equal(restored.user_factors, model.user_factors)
    assert restored.item_ids == model.item_ids
    assert restored.params == model.params and restored.params["alpha"] == 2.0
    assert restored.metrics["ndcg@10"] == 0.5 and restored.kind == "als"
    assert np.allclose(restored.fold_in([1, 2, 3]), model.fold_in([1, 2, 3]))
    with pytest.raises(ValueError):
        FactorModel.from_bytes(b"not a model")

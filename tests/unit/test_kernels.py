"""The compiled request kernels against the NumPy formulas they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from audotics.ml import kernels

seeds = st.integers(min_value=0, max_value=2**31 - 1)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n_rows=st.integers(1, 60), dim=st.integers(1, 70), picks=st.integers(0, 80))
def test_dot_rows_and_weighted_sum_match_numpy(seed: int, n_rows: int, dim: int, picks: int):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n_rows, dim)).astype(np.float32)
    rows = rng.integers(0, n_rows, picks).astype(np.int64)
    vector = rng.standard_normal(dim).astype(np.float32)
    weights = rng.random(picks).astype(np.float32)
    np.testing.assert_allclose(
        kernels.dot_rows(matrix, rows, vector), matrix[rows] @ vector, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        kernels.weighted_row_sum(matrix, rows.astype(np.int32), weights),
        weights @ matrix[rows] if picks else np.zeros(dim),
        rtol=1e-4,
        atol=1e-4,
    )


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 50), density=st.floats(0.0, 0.5), history=st.integers(0, 20))
def test_accumulate_rows_is_the_sparse_row_product(seed: int, n: int, density: float, history: int):
    rng = np.random.default_rng(seed)
    similarity = sparse.random(n, n, density=density, random_state=seed, format="csr")
    similarity = sparse.csr_matrix(similarity, dtype=np.float32)
    items = np.unique(rng.integers(0, n, history)).astype(np.int32)
    weights = rng.random(len(items)).astype(np.float32)
    targets, values = kernels.accumulate_rows(
        similarity.indptr, similarity.indices, similarity.data, items, weights
    )
    row = sparse.csr_matrix((weights, (np.zeros(len(items), dtype=np.int64), items)), shape=(1, n))
    expected = np.asarray((row @ similarity).toarray()).ravel()
    reached = np.unique(similarity[items].indices) if len(items) else np.empty(0, np.int64)
    assert np.array_equal(targets, reached)  # sorted, each target once
    np.testing.assert_allclose(values, expected[targets], rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds,
    size=st.integers(0, 3000),
    span=st.sampled_from([1, 7, 2048, 2049, 10**6, 2**40]),
)
def test_sort_order_is_a_stable_argsort(seed: int, size: int, span: int):
    # Spans below, at and past one radix digit (2048) and past two; negative keys; ties.
    rng = np.random.default_rng(seed)
    keys = rng.integers(-span, span, size).astype(np.int64)
    assert np.array_equal(kernels.sort_order(keys), np.argsort(keys, kind="stable"))
    narrow = keys.astype(np.int32) if span < 2**31 else keys
    assert np.array_equal(kernels.sort_order(narrow), np.argsort(narrow, kind="stable"))


@settings(max_examples=60, deadline=None)
@given(seed=seeds, size=st.integers(0, 300), n=st.integers(0, 50))
def test_top_positive_is_the_best_positive_values_in_order(seed: int, size: int, n: int):
    rng = np.random.default_rng(seed)
    values = np.round(rng.standard_normal(size), 1).astype(np.float32)  # ties on purpose
    got = kernels.top_positive(values, n)
    positive = np.flatnonzero(values > 0)
    expected = positive[np.argsort(-values[positive], kind="stable")][:n]
    assert np.array_equal(values[got], values[expected])  # the same values, best first
    assert len(set(got.tolist())) == len(got) and (values[got] > 0).all()


@settings(max_examples=60, deadline=None)
@given(seed=seeds, size=st.integers(0, 200), banned=st.integers(0, 50))
def test_union_excluding_and_lookup(seed: int, size: int, banned: int):
    rng = np.random.default_rng(seed)
    found = rng.integers(0, 100, size).astype(np.int64)
    ban = np.unique(rng.integers(0, 100, banned)).astype(np.int64)
    pool = kernels.union_excluding(found, ban)
    assert np.array_equal(pool, np.setdiff1d(np.unique(found), ban))
    values = rng.random(len(pool)).astype(np.float32)
    items = rng.integers(0, 100, 30).astype(np.int64)
    expected = np.array(
        [values[np.searchsorted(pool, i)] if i in set(pool.tolist()) else 0.0 for i in items],
        dtype=np.float32,
    )
    assert np.array_equal(kernels.lookup(pool, values, items), expected)
    ascending = np.sort(items)  # the merge walk (repeats included) gives the same values
    assert np.array_equal(
        kernels.lookup(pool, values, ascending), expected[np.argsort(items, kind="stable")]
    )


@pytest.mark.parametrize("constant", [False, True])
def test_standardise_rows_is_the_z_score_with_non_finite_as_zero(constant: bool):
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((3, 40)).astype(np.float32)
    scores[1, 5] = np.inf
    scores[2, 7] = np.nan
    if constant:
        scores[0] = 2.5
    z = kernels.standardise_rows(scores)
    for r in range(3):
        values = np.nan_to_num(scores[r], nan=0.0, posinf=0.0, neginf=0.0).astype(np.float64)
        std = values.std()
        expected = np.zeros(40) if std <= 1e-12 else (values - values.mean()) / std
        np.testing.assert_allclose(z[r], expected, rtol=1e-5, atol=1e-5)
    assert kernels.standardise_rows(np.zeros((2, 0), dtype=np.float32)).shape == (2, 0)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, history=st.integers(0, 30), low=st.booleans())
def test_fold_in_solve_is_the_normal_equations(seed: int, history: int, low: bool):
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((50, 8)).astype(np.float32)
    gram = factors.T.astype(np.float64) @ factors + 0.5 * np.eye(8)
    items = np.unique(rng.integers(0, 50, history)).astype(np.int64)
    confidence = 1.0 + 3.0 * rng.random(len(items))
    if low and len(items):
        confidence[0] = -0.5  # a dislike: |c| - 1 < 0, the rank-one term subtracts
    y = factors[items].astype(np.float64)
    a = gram + (y.T * (np.abs(confidence) - 1.0)) @ y
    x = kernels.fold_in_solve(gram, factors, items, confidence)
    if np.linalg.eigvalsh(a).min() > 1e-9:
        expected = np.linalg.solve(a, y.T @ np.maximum(confidence, 0.0))
        np.testing.assert_allclose(x, expected, rtol=1e-4, atol=1e-5)
    else:
        assert len(x) == 0  # not positive definite: the caller's general solve


def test_strongest_seeds_picks_the_largest_positive_contribution():
    # item 3 is reached from 0 (0.2) and 1 (0.5); item 4 only from 2 (not heard); S by source
    similarity = sparse.csr_matrix(
        (np.array([0.2, 0.5, 0.9], np.float32), ([0, 1, 2], [3, 3, 4])), shape=(5, 5)
    )
    history = np.array([0, 1], dtype=np.int32)
    seeds = kernels.strongest_seeds(
        similarity.indptr,
        similarity.indices,
        similarity.data,
        np.array([3, 4, 3], dtype=np.int64),  # repeats get the same answer
        history,
        np.array([3.0, 1.0], dtype=np.float32),  # 0 weighs 3: 0.6 beats 1's 0.5
    )
    assert seeds.tolist() == [0, -1, 0]


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 40), density=st.floats(0.0, 0.6), history=st.integers(0, 15))
def test_strongest_seeds_is_the_argmax_contribution(
    seed: int, n: int, density: float, history: int
):
    rng = np.random.default_rng(seed)
    similarity = sparse.random(n, n, density=density, random_state=seed, format="csr")
    similarity = sparse.csr_matrix(np.round(similarity.toarray(), 1), dtype=np.float32)  # ties
    seen = np.unique(rng.integers(0, n, history)).astype(np.int32)
    weights = np.round(rng.random(len(seen)) * 3, 0).astype(np.float32)
    items = rng.integers(0, n, 10).astype(np.int64)
    got = kernels.strongest_seeds(
        similarity.indptr, similarity.indices, similarity.data, items, seen, weights
    )
    dense = similarity.toarray()
    for position, j in enumerate(items.tolist()):
        contribution = weights * dense[seen, j] if len(seen) else np.zeros(0)
        if len(seen) == 0 or contribution.max() <= 0:
            assert got[position] == -1
        else:  # the first of the largest (history ascending)
            assert got[position] == seen[int(np.argmax(contribution))]


def test_warm_up_compiles_every_signature_a_request_uses():
    from audotics.ml.cf.confidence import ConfidenceWeights, confidence_from_weights, net_weights
    from audotics.ml.cf.train import ALSParams, train_als
    from audotics.ml.datasets.synthetic import generate_synthetic
    from audotics.ml.evaluate.hybrid import log_weighted
    from audotics.ml.recommend import BlendWeights, RecommendationEngine
    from audotics.ml.recommend.neighbours import cosine_neighbours
    from audotics.ml.recommend.sources import (
        CollaborativeSource,
        ContentSource,
        ItemItemSource,
        PopularitySource,
    )
    from audotics.ml.similarity import mips

    kernels.warm_up()
    compiled = [getattr(kernels, name) for name in dir(kernels)]
    compiled = [k for k in compiled if hasattr(k, "signatures")] + [mips._probe]
    before = {k: set(k.signatures) for k in compiled}
    data = generate_synthetic(200, 2500, seed=1, n_clusters=4)  # > 2000 items: CF uses the index
    net = net_weights(data.interactions, ConfidenceWeights())
    rows = log_weighted(net)
    model = train_als(
        confidence_from_weights(net, ConfidenceWeights()),
        ALSParams(factors=8, iterations=2),
        extra_params=ConfidenceWeights().to_dict(),
    )
    content = ContentSource(data.item_features.astype(np.float32), ann_above=1000)
    cf = CollaborativeSource(model)
    assert cf.index is not None
    engine = RecommendationEngine(
        [
            cf,
            ItemItemSource(cosine_neighbours(rows, 20), name="knn"),
            content,
            PopularitySource(np.asarray((rows > 0).sum(axis=0)).ravel(), content),
        ],
        BlendWeights(knn=1.0),
        n_items=rows.shape[1],
        item_artist=data.item_artist.astype(np.int64),
    )
    found = engine.recommend(rows[3], 10, exclude=[0, 1], max_per_artist=2)
    assert len(found) == 10 and {r.explanation.kind for r in found} <= set(found[0].contributions)
    added = {k.__name__: set(k.signatures) - before[k] for k in compiled}
    assert not any(added.values()), added  # each would be a compile on a first request


@settings(max_examples=80, deadline=None)
@given(seed=seeds, size=st.integers(0, 3000), k=st.integers(0, 400), positive=st.booleans())
def test_top_k_is_the_stable_ranking_head(seed: int, size: int, k: int, positive: bool):
    # Many ties (one decimal), infinities and NaN (ranked as -inf); small and large k.
    rng = np.random.default_rng(seed)
    values = np.round(rng.standard_normal(size), 1)
    values[rng.random(size) < 0.02] = np.inf
    values[rng.random(size) < 0.02] = -np.inf
    values[rng.random(size) < 0.02] = np.nan
    keyed = np.where(np.isnan(values), -np.inf, values)
    eligible = np.flatnonzero(keyed > 0) if positive else np.arange(size)
    expected = eligible[np.argsort(-keyed[eligible], kind="stable")][:k]
    for dtype in (np.float32, np.float64):
        got = kernels.top_k(values.astype(dtype), k, positive)
        assert np.array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 40), dim=st.integers(1, 70), history=st.integers(1, 30))
def test_closest_in_direction_is_the_cosine_argmax(seed: int, n: int, dim: int, history: int):
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n, dim)).astype(np.float32)
    factors[rng.random(n) < 0.2] = 0.0  # unplayed items have zero factors
    seen = rng.integers(0, n, history).astype(np.int32)
    items = rng.integers(0, n, 12).astype(np.int64)
    norms = np.linalg.norm(factors[seen], axis=1, keepdims=True)
    unit = np.divide(factors[seen], norms, out=np.zeros_like(factors[seen]), where=norms > 0)
    similarity = unit @ factors[items].T
    got = kernels.closest_in_direction(factors, seen, items)
    # The chosen seed's cosine is the best one (equal up to rounding when two tie).
    chosen = similarity[[list(seen).index(g) for g in got], np.arange(len(items))]
    np.testing.assert_allclose(chosen, similarity.max(axis=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(500.0),  # sorted
        np.arange(500.0)[::-1],  # reversed
        np.ones(500),  # all equal
        np.concatenate([np.arange(250.0), np.arange(250.0)[::-1]]),  # organ pipe
        np.tile([3.0, 1.0, 2.0], 170),  # few values, repeating
    ],
)
def test_top_k_on_ordered_inputs(values: np.ndarray):
    for k in (1, 7, 100, 499, 500, 600):
        expected = np.argsort(-values, kind="stable")[:k]
        assert np.array_equal(kernels.top_k(values, k, False), expected)


def test_selection_gives_up_within_its_budget_and_top_k_still_answers():
    rng = np.random.default_rng(3)
    keys = rng.standard_normal(1000)
    value, found = kernels._kth_largest(keys.copy(), 10, 0)  # no partition allowed
    assert not found
    value, found = kernels._kth_largest(keys.copy(), 10, 100)
    assert found and value == np.sort(keys)[::-1][10]

"""The engine's history row: log1p of the summed net weights, as the COO construction gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from audotics.ml.recommend import RecommendationEngine


def _reference(items: np.ndarray, weights: np.ndarray, n_items: int) -> np.ndarray:
    row = sparse.coo_matrix(
        (weights, (np.zeros(len(items), dtype=np.int64), items)), shape=(1, n_items)
    ).tocsr()
    row.sum_duplicates()
    dense = np.asarray(row.toarray()).ravel()
    return np.where(dense > 0, np.log1p(np.maximum(dense, 0.0)), 0.0).astype(np.float32)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.integers(0, 60), n_items=st.integers(1, 40))
def test_history_row_sums_duplicates_and_drops_non_positive_cells(
    seed: int, size: int, n_items: int
):
    rng = np.random.default_rng(seed)
    items = rng.integers(0, n_items, size)
    weights = np.round(rng.standard_normal(size) * 3, 0)  # zeros, negatives, cancelling sums
    engine = RecommendationEngine([], n_items=n_items)
    row = engine.history_row(items, weights)
    assert row.shape == (1, n_items) and row.dtype == np.float32
    assert row.has_sorted_indices and (row.data > 0).all()  # no explicit zeros
    assert np.array_equal(row.toarray().ravel(), _reference(items, weights, n_items))
    plays = engine.history_row(items)  # default weight 1 per listen
    assert np.allclose(plays.toarray().ravel(), np.log1p(np.bincount(items, minlength=n_items)))


@pytest.mark.parametrize("items", [[-1], [5], [0, 7]])
def test_history_row_rejects_items_outside_the_catalogue(items: list[int]):
    with pytest.raises(ValueError, match="item indices"):
        RecommendationEngine([], n_items=5).history_row(items)


def test_history_row_needs_one_weight_per_item():
    with pytest.raises(ValueError, match="weights"):
        RecommendationEngine([], n_items=5).history_row([0, 1], [1.0])

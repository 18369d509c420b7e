"""Relative history rows for one request: the fast within-user rank and the shared memo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.cf.confidence import within_user_rank
from audotics.ml.recommend.neighbours import cosine_neighbours
from audotics.ml.recommend.relative import (
    RelativeRowSource,
    log_weighted,
    relative_rows,
    relative_views,
    row_rank_relative,
)
from audotics.ml.recommend.sources import ItemItemSource


@pytest.mark.parametrize("size", [0, 1, 2, 7, 100, 2000])
def test_row_rank_relative_is_the_matrix_paths_rank_ties_included(size: int) -> None:
    rng = np.random.default_rng(size)
    counts = np.round(np.exp(rng.normal(1.0, 1.5, size))) + 1  # many equal small counts
    logged = np.log1p(counts).astype(np.float32)  # what a request's row holds
    # The whole-matrix ranking of the same counts as one user's row (checked against
    # scipy's rankdata in test_hybrid).
    expected = within_user_rank(sparse.csr_matrix(counts.reshape(1, -1))).toarray().ravel()
    np.testing.assert_allclose(row_rank_relative(logged), expected, rtol=0, atol=1e-12)
    if size >= 7:
        assert len(np.unique(counts)) < size, "the case must hold ties"


def test_a_request_row_and_the_matrix_path_give_the_same_ranks() -> None:
    rng = np.random.default_rng(3)
    net = sparse.random(40, 300, density=0.1, random_state=3, format="csr")
    net.data = np.round(np.exp(rng.normal(1.5, 2.0, net.nnz))) + 1
    ranks, scale = relative_rows(net, kind="rank")
    view = RelativeRowSource(ItemItemSource(cosine_neighbours(ranks, 20)), scale, "rank")
    for user in range(net.shape[0]):
        one = view.relative(log_weighted(net[user]))  # the 1-row path
        np.testing.assert_allclose(one.toarray(), ranks[user].toarray(), rtol=1e-6)
    many = view.relative(log_weighted(net))  # the matrix path
    np.testing.assert_allclose(many.toarray(), ranks.toarray(), rtol=1e-6)


def test_relative_views_share_one_memo_and_reject_unknown_kinds() -> None:
    net = sparse.csr_matrix(np.array([[5.0, 1.0, 0.0, 2.0], [1.0, 1.0, 3.0, 0.0]]))
    ranks, scale = relative_rows(net, kind="rank")
    similarity = cosine_neighbours(ranks, 3)
    views = relative_views(
        [ItemItemSource(similarity, name="knn"), ItemItemSource(similarity, name="graph")],
        scale,
        "rank",
    )
    row = sparse.csr_matrix(net[0])
    row.data = np.log1p(row.data).astype(np.float32)
    first = views[0].relative(row)
    assert views[1].relative(row) is first, "one relative row per request for every view"
    np.testing.assert_allclose(first.toarray(), ranks[0].toarray(), rtol=1e-5)
    with pytest.raises(ValueError, match="kind"):
        relative_views([ItemItemSource(similarity)], scale, "zscore")

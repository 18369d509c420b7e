"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.evaluate import metrics

# user 0: list [3, 1, 7, 5], relevant {1, 5, 9} -> hits at positions 2 and 4 (1-based)
# user 1: list [2, 4] (then padding), relevant {2} -> hit at position 1
RECOMMENDED = np.array([[3, 1, 7, 5], [2, 4, -1, -1]])
RELEVANT = sparse.csr_matrix(
    (np.ones(4), ([0, 0, 0, 1], [1, 5, 9, 2])), shape=(2, 10), dtype=np.float32
)


def test_precision_and_recall() -> None:
    assert metrics.precision_at_k(RECOMMENDED, RELEVANT, 4).tolist() == [0.5, 0.25]
    assert metrics.recall_at_k(RECOMMENDED, RELEVANT, 4) == pytest.approx([2 / 3, 1.0])
    # @2 only the first two positions count.
    assert metrics.precision_at_k(RECOMMENDED, RELEVANT, 2).tolist() == [0.5, 0.5]
    assert metrics.recall_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx([1 / 3, 1.0])


def test_ndcg_exact_values() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant items, k = 4
    values = metrics.ndcg_at_k(RECOMMENDED, RELEVANT, 4)
    assert values == pytest.approx([dcg / idcg, 1.0])
    assert values[0] == pytest.approx(0.498189, abs=1e-6)
    # @1: user 0 misses, user 1 hits.
    assert metrics.ndcg_at_k(RECOMMENDED, RELEVANT, 1).tolist() == [0.0, 1.0]


def test_map_exact_values() -> None:
    # user 0: precision 1/2 at rank 2 and 2/4 at rank 4, over min(k, 3) = 3 relevant items
    values = metrics.map_at_k(RECOMMENDED, RELEVANT, 4)
    assert values == pytest.approx([(1 / 2 + 2 / 4) / 3, 1.0])
    # @2: only the hit at rank 2 counts, over min(2, 3) = 2
    assert metrics.map_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx([(1 / 2) / 2, 1.0])


def test_a_perfect_list_scores_one_everywhere() -> None:
    relevant = sparse.csr_matrix(np.array([[0, 1, 1, 0]], dtype=np.float32))
    perfect = np.array([[2, 1, 0]])
    assert metrics.ndcg_at_k(perfect, relevant, 3)[0] == pytest.approx(1.0)
    assert metrics.map_at_k(perfect, relevant, 3)[0] == pytest.approx(1.0)
    assert metrics.recall_at_k(perfect, relevant, 3)[0] == pytest.approx(1.0)


def test_coverage_and_novelty() -> None:
    assert metrics.catalogue_coverage(RECOMMENDED, 10) == pytest.approx(0.6)  # {1,2,3,4,5,7}
    train = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 1]], np.float32))
    popularity = metrics.item_popularity(train)
    assert popularity.tolist() == [1.0, 0.25, 0.25]
    novelty = metrics.novelty(np.array([[0, 1], [2, -1]]), popularity)
    assert novelty.tolist() == [pytest.approx(1.0), pytest.approx(2.0)]  # (0 + 2) / 2, 2 / 1


def test_intra_list_diversity_on_colistening_vectors() -> None:
    # items 0 and 1 have the same listener (user 0); item 2 another one (user 1)
    train = sparse.csr_matrix(np.array([[1, 3, 0], [0, 0, 2]], dtype=np.float32))
    vectors = metrics.colistening_vectors(train)
    lists = np.array([[0, 1, 2], [0, 2, -1], [1, -1, -1]])
    diversity = metrics.intra_list_diversity(lists, vectors)
    # list 0: cosines (0,1)=1, (0,2)=0, (1,2)=0 -> 1 - 1/3; list 1: 1 - 0; list 2: one item
    assert diversity[:2] == pytest.approx([2 / 3, 1.0])
    assert np.isnan(diversity[2])

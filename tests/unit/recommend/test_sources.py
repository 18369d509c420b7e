"""Candidate sources: ANN retrieval over CF factors, item-item and content scoring."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from audotics.ml.cf.model import FactorModel
from audotics.ml.recommend.sources import (
    CollaborativeSource,
    ContentSource,
    ItemItemSource,
    cosine_neighbours,
)


def test_ann_candidates_recall_exact_inner_product_top_100() -> None:
    rng = np.random.default_rng(0)
    # Item factors with varied norms (popular items have longer vectors), as ALS gives.
    items = rng.normal(size=(6000, 32)).astype(np.float32)
    items *= rng.lognormal(0, 0.4, size=(6000, 1)).astype(np.float32)
    model = FactorModel(np.zeros((1, 32), np.float32), items, params={"alpha": 2.0})
    approximate = CollaborativeSource(model, ann=True)
    exact = CollaborativeSource(model, ann=False)
    recalls = []
    for _user in range(20):
        played = rng.choice(6000, 12, replace=False)
        row = sparse.csr_matrix((np.ones(12), (np.zeros(12, int), played)), shape=(1, 6000))
        found = set(approximate.top(row, 100).tolist())
        truth = set(exact.top(row, 100).tolist())
        recalls.append(len(found & truth) / 100)
    assert np.mean(recalls) >= 0.95, recalls


def test_item_item_scores_follow_co_listening_and_name_the_seed() -> None:
    # Users 0-2 play items {0, 1}; users 3-5 play {2, 3}: 0~1 and 2~3 co-listened.
    cells = [(u, i) for u in range(3) for i in (0, 1)] + [
        (u, i) for u in range(3, 6) for i in (2, 3)
    ]
    rows, cols = zip(*cells, strict=True)
    train = sparse.csr_matrix((np.ones(len(cells)), (rows, cols)), shape=(6, 4))
    source = ItemItemSource(cosine_neighbours(train, 10))
    history = sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 4))
    scores = source.scores(history, np.arange(4))
    assert scores[1] > 0 and scores[2] == scores[3] == 0
    assert source.top(history, 5).tolist() == [1]
    assert source.because(history, 1) == 0


def test_content_profile_prefers_items_like_the_history() -> None:
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    source = ContentSource(vectors)
    history = sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 4))
    scores = source.scores(history, np.arange(4))
    assert scores[1] > scores[2] and scores[1] > scores[3]
    assert source.because(history, 1) == 0
    assert source.top(sparse.csr_matrix((1, 4)), 3).size == 0

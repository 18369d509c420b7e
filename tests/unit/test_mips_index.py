"""The inverted-file inner-product index: exact scores, full probing = exact, recall."""

from __future__ import annotations

import numpy as np
import pytest

from audotics.ml.similarity.mips import InnerProductIndex, kmeans, nearest_centroid


def _clustered(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Vectors around random centres with varied norms (the shape of ALS factors)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)) * 2.0
    vectors = centres[rng.integers(clusters, size=n)] + rng.normal(size=(n, dim)) * 0.5
    vectors *= rng.lognormal(0, 0.4, size=(n, 1))
    return vectors.astype(np.float32)


def test_results_are_exact_inner_products_best_first() -> None:
    vectors = _clustered(3000, 16, 12, seed=1)
    index = InnerProductIndex(vectors)
    query = np.random.default_rng(2).normal(size=16).astype(np.float32)
    keys, scores = index.search(query, 50)
    assert len(keys) == 50 and len(set(keys.tolist())) == 50
    np.testing.assert_allclose(scores, vectors[keys] @ query, rtol=1e-5, atol=1e-5)
    assert np.all(np.diff(scores) <= 0)


def test_probing_every_list_is_exact_top_k() -> None:
    vectors = _clustered(2000, 8, 6, seed=3)
    index = InnerProductIndex(vectors, lists=40)
    rng = np.random.default_rng(4)
    for _ in range(5):
        query = rng.normal(size=8).astype(np.float32)
        keys, _ = index.search(query, 30, probes=index.lists)
        exact = np.argsort(-(vectors @ query), kind="stable")[:30]
        assert set(keys.tolist()) == set(exact.tolist())


def test_recall_at_100_on_clustered_data_while_reading_a_fraction() -> None:
    vectors = _clustered(20000, 32, 40, seed=5)
    index = InnerProductIndex(vectors)
    assert index.probes * 4 < index.lists  # reads well under a quarter of the lists
    rng = np.random.default_rng(6)
    recalls = []
    for _ in range(30):
        query = rng.normal(size=32).astype(np.float32)
        keys, _ = index.search(query, 100)
        exact = np.argpartition(-(vectors @ query), 100)[:100]
        recalls.append(len(set(keys.tolist()) & set(exact.tolist())) / 100)
    assert np.mean(recalls) >= 0.95, recalls


def test_zero_rows_are_left_out_and_small_lists_widen_the_search() -> None:
    vectors = np.zeros((500, 4), dtype=np.float32)
    vectors[::5] = np.random.default_rng(7).normal(size=(100, 4))
    index = InnerProductIndex(vectors, lists=50, probes=1)
    assert len(index) == 100
    keys, _ = index.search(np.ones(4, dtype=np.float32), 80)
    assert len(keys) == 80  # one probed list holds ~2 rows: it widened
    assert np.all(keys % 5 == 0)
    empty = InnerProductIndex(np.zeros((10, 4), dtype=np.float32))
    assert len(empty.search(np.ones(4, dtype=np.float32), 5)[0]) == 0
    with pytest.raises(ValueError):
        index.search(np.ones(3, dtype=np.float32), 5)


def test_kmeans_separates_well_separated_groups() -> None:
    rng = np.random.default_rng(8)
    points = np.concatenate([rng.normal(loc, 0.1, size=(200, 2)) for loc in (-5, 0, 5)])
    centroids = kmeans(points.astype(np.float32), 3, seed=1)
    labels = nearest_centroid(points.astype(np.float32), centroids)
    groups = [set(labels[i * 200 : (i + 1) * 200].tolist()) for i in range(3)]
    assert all(len(group) == 1 for group in groups)
    assert len(set().union(*groups)) == 3

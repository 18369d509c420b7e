"""Candidate sources: ANN retrieval over CF factors, item-item and content scoring."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights, confidence_from_weights, net_weights
from audotics.ml.cf.train import ALSParams, train_als
from audotics.ml.datasets.synthetic import generate_synthetic
from audotics.ml.evaluate.hybrid import log_weighted
from audotics.ml.recommend.neighbours import cosine_neighbours, ease_neighbours, rp3beta_neighbours
from audotics.ml.recommend.sources import CollaborativeSource, ContentSource, ItemItemSource


def test_ann_candidates_recall_exact_inner_product_top_100() -> None:
    # ALS factors of generated listening (planted taste clusters), as the engine serves.
    data = generate_synthetic(1500, 6000, seed=3, n_clusters=12)
    net = net_weights(data.interactions, ConfidenceWeights())
    model = train_als(
        confidence_from_weights(net, ConfidenceWeights()),
        ALSParams(factors=32, regularization=20.0, iterations=6),
        extra_params=ConfidenceWeights().to_dict(),
    )
    approximate = CollaborativeSource(model, ann=True)
    exact = CollaborativeSource(model, ann=False)
    assert approximate.index is not None and exact.index is None
    rows = log_weighted(net)
    recalls = []
    for user in np.random.default_rng(0).choice(rows.shape[0], 30, replace=False):
        row = rows[int(user)]
        found = approximate.top(row, 100)
        truth = exact.top(row, 100)
        assert len(found) == len(set(found.tolist())) == 100
        recalls.append(len(set(found.tolist()) & set(truth.tolist())) / 100)
    assert np.mean(recalls) >= 0.95, recalls
    # The scanned share is what makes it fast: far less than the catalogue per query.
    assert approximate.index.probes < approximate.index.lists / 4


def test_item_item_sparse_scores_match_the_dense_product() -> None:
    rng = np.random.default_rng(1)
    train = sparse.random(200, 300, density=0.05, random_state=2, format="csr", dtype=np.float32)
    similarity = cosine_neighbours(train, 15)
    source = ItemItemSource(similarity)
    history = sparse.csr_matrix(train[7])
    dense = np.asarray((history @ similarity).toarray()).ravel()
    items = rng.permutation(300)
    np.testing.assert_allclose(source.scores(history, items), dense[items], rtol=1e-5, atol=1e-6)
    top = source.top(history, 20)
    expected = np.argsort(-dense, kind="stable")[: len(top)]
    np.testing.assert_allclose(dense[top], dense[expected], rtol=1e-5)
    assert np.all(dense[top] > 0)
    for item in top[:5].tolist():
        seed = source.because(history, item)
        contributions = history.multiply(similarity[:, item].T).toarray().ravel()
        assert seed == int(np.argmax(contributions))


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


def test_rp3beta_is_the_popularity_penalised_three_step_walk() -> None:
    train = sparse.random(60, 80, density=0.1, random_state=4, format="csr", dtype=np.float32)
    alpha, beta, neighbours = 0.8, 0.4, 10
    graph = rp3beta_neighbours(train, alpha, beta, neighbours).toarray()
    # Dense reference: P(u|i)^a P(j|u)^a / listeners_j^b, from the 0/1 listening matrix.
    listened = (train.toarray() > 0).astype(np.float64)
    listeners = listened.sum(axis=0)
    item_to_user = listened.T / np.maximum(listeners, 1)[:, None]
    degree = listened.sum(axis=1)
    user_to_item = listened / np.maximum(degree, 1)[:, None]
    walk = (item_to_user**alpha) @ (user_to_item**alpha)
    walk = walk * np.where(listeners > 0, listeners ** (-beta), 0.0)[None, :]
    np.fill_diagonal(walk, 0.0)
    for item in range(walk.shape[0]):
        kept = np.flatnonzero(graph[item])
        assert len(kept) == min(neighbours, np.count_nonzero(walk[item]))
        np.testing.assert_allclose(graph[item, kept], walk[item, kept], rtol=1e-5)
        # The kept neighbours are the strongest ones.
        if len(kept):
            assert graph[item, kept].min() >= np.delete(walk[item], kept).max() - 1e-6
    # A heavier popularity penalty moves weight towards rarely played targets.
    mild = rp3beta_neighbours(train, alpha, 0.0, 80).toarray()
    strong = rp3beta_neighbours(train, alpha, 1.0, 80).toarray()
    popular = np.argsort(-listeners)[:10]
    assert strong[:, popular].sum() / strong.sum() < mild[:, popular].sum() / mild.sum()


def test_ease_side_information_ties_items_described_alike_that_nobody_played_together() -> None:
    # Two listener communities, {0, 1} and {2, 3}; items 0 and 2 share a tag, 1 and 3 another.
    listening = sparse.csr_matrix(
        np.array([[1, 1, 0, 0], [2, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 2]], dtype=np.float32)
    )
    tags = sparse.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32))
    plain = ease_neighbours(listening, 0.5, 4, 3).toarray()
    tied = ease_neighbours(listening, 0.5, 4, 3, side=tags, side_weight=1.0).toarray()
    assert plain[0, 2] == 0.0 and plain[2, 0] == 0.0  # no co-listening, no weight
    assert tied[0, 2] > 0.0 and tied[2, 0] > 0.0
    assert tied[0, 1] > 0.0  # co-listening still counts
    assert np.array_equal(ease_neighbours(listening, 0.5, 4, 3, side=tags).toarray(), plain)


def test_edlae_is_the_dropout_emphasised_closed_form_and_ease_without_dropout() -> None:
    rng = np.random.default_rng(7)
    dense = (rng.random((60, 12)) < 0.3) * rng.integers(1, 5, size=(60, 12))
    dense[:, 0] = rng.integers(1, 5, size=60)  # one item everyone played
    train = sparse.csr_matrix(dense.astype(np.float32))
    assert np.allclose(
        ease_neighbours(train, 0.5, 12, 11, dropout=0.0).toarray(),
        ease_neighbours(train, 0.5, 12, 11).toarray(),
    )
    dropout = 0.4
    gram = dense.T.astype(np.float64) @ dense
    lam = 0.5 * np.diag(gram).mean() * np.eye(12) + dropout / (1 - dropout) * np.diag(np.diag(gram))
    p = np.linalg.inv(gram + lam)
    expected = np.eye(12) - p / np.diag(p)
    expected[expected < 0] = 0.0
    got = ease_neighbours(train, 0.5, 12, 11, dropout=dropout).toarray()
    assert np.allclose(got, expected, atol=1e-6)
    assert not np.allclose(got, ease_neighbours(train, 0.5, 12, 11).toarray(), atol=1e-4)
    with pytest.raises(ValueError):
        ease_neighbours(train, 0.5, 12, 11, dropout=1.0)

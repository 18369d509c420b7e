"""The hybrid engine on synthetic histories with planted taste clusters (issue targets)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.stats import rankdata

from audotics.ml.cf.confidence import (
    ConfidenceWeights,
    net_weights,
    relative_to_user_median,
    within_user_rank,
)
from audotics.ml.datasets.synthetic import SyntheticData, generate_synthetic
from audotics.ml.evaluate.hybrid import (
    RELATIVE_GROUPS,
    HybridModel,
    RelativeRowSource,
    build_engine,
    log_weighted,
    relative_rows,
    tag_pseudo_users,
    tune_weights,
)
from audotics.ml.evaluate.models import ModelOptions, TrainData
from audotics.ml.evaluate.runner import EvaluationResult, make_split, run_evaluation
from audotics.ml.recommend import BlendWeights, rerank
from audotics.ml.recommend.engine import Candidates
from audotics.ml.recommend.neighbours import cosine_neighbours
from audotics.ml.recommend.sources import ItemItemSource


def _features(data: SyntheticData) -> np.ndarray:
    """Audio features standardised per column: the content side of the synthetic catalogue."""
    x = data.item_features.astype(np.float64)
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)


@pytest.fixture(scope="module")
def synthetic() -> SyntheticData:
    return generate_synthetic(600, 900, seed=5)


@pytest.fixture(scope="module")
def result(synthetic: SyntheticData) -> EvaluationResult:
    log = synthetic.interactions
    options = ModelOptions(seed=0, quick=True)
    hybrid = HybridModel(options, content=_features(synthetic))
    return run_evaluation(
        log, make_split(log), ["popularity", "item-knn", hybrid], quick=True, seed=0
    )


def test_hybrid_beats_popularity_and_item_knn(result: EvaluationResult) -> None:
    ndcg = {name: model.metrics["ndcg@10"] for name, model in result.models.items()}
    assert ndcg["hybrid"] > ndcg["popularity"], ndcg
    assert ndcg["hybrid"] > ndcg["item-knn"], ndcg
    assert result.models["hybrid"].params["grid"], "blend weights were tuned on validation"


def test_new_user_with_three_plays_gets_their_taste_cluster(synthetic: SyntheticData) -> None:
    log = synthetic.interactions
    data = TrainData(log, net_weights(log, ConfidenceWeights()))
    engine = build_engine(data, content=_features(synthetic), quick=True, weights=BlendWeights())
    rng = np.random.default_rng(3)
    shares = []
    for cluster in range(synthetic.n_clusters):
        members = np.flatnonzero(synthetic.item_cluster == cluster)
        plays = rng.choice(members, 3, replace=False)
        found = engine.recommend(engine.history_row(plays), 10)
        assert len(found) == 10
        assert not set(plays) & {r.item for r in found}, "played items are never recommended"
        shares.append(np.mean([synthetic.item_cluster[r.item] == cluster for r in found]))
    chance = 1.0 / synthetic.n_clusters
    assert np.mean(shares) >= 5 * chance, (shares, chance)


def test_every_recommendation_is_explained(synthetic: SyntheticData) -> None:
    log = synthetic.interactions
    data = TrainData(log, net_weights(log, ConfidenceWeights()))
    engine = build_engine(data, content=_features(synthetic), quick=True)
    heavy = engine.history_row(log.item[log.user == 0])
    for rec in engine.recommend(heavy, 10):
        assert rec.explanation.kind in rec.contributions
        if rec.explanation.kind in {"cf", "item", "knn", "graph", "content"}:
            assert rec.explanation.seed_item in set(heavy.indices.tolist())
    newcomer = engine.recommend(engine.history_row([]), 5)
    assert [r.explanation.kind for r in newcomer] == ["popularity"] * 5


def test_history_size_shifts_weight_from_popularity_to_collaboration() -> None:
    weights = BlendWeights(cf=1.0, item=1.0, content=0.5, popularity=1.0, half_history=5.0)
    new, few, heavy = (weights.for_history(n) for n in (0, 3, 200))
    assert new["cf"] == new["item"] == new["content"] == 0.0 and new["popularity"] == 1.0
    assert 0 < few["cf"] < heavy["cf"] and few["popularity"] > heavy["popularity"]
    assert heavy["cf"] > 30 * heavy["popularity"]


def test_rerank_caps_artists_and_diversifies() -> None:
    items = np.arange(6)
    scores = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    artist = np.array([0, 0, 0, 1, 2, 3])
    assert rerank(items, scores, 4, item_artist=artist, max_per_artist=1) == [0, 3, 4, 5]
    vectors = np.array([[1, 0], [1, 0], [0.99, 0.14], [0, 1], [0.7, 0.7], [0.6, 0.8]])
    plain = rerank(items, scores, 2, vectors=vectors)
    diverse = rerank(items, scores, 2, vectors=vectors, diversity=0.7)
    assert plain == [0, 1]
    assert diverse[0] == 0 and diverse[1] != 1, diverse


@pytest.mark.parametrize("seed", range(30))
def test_rerank_equals_the_capped_walk_down_the_full_ranking(seed: int) -> None:
    # rerank ranks only the head first; the result must be the plain capped walk.
    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 400))
    items = rng.permutation(5000)[:size]
    scores = np.round(rng.standard_normal(size), 1).astype(np.float32)  # ties
    artist = rng.integers(-1, int(rng.integers(1, 12)), 5000)  # few artists: the cap bites
    n, cap = int(rng.integers(1, 30)), int(rng.integers(1, 4))
    expected, per_artist = [], {}
    for item in items[np.argsort(-scores, kind="stable")].tolist():
        a = int(artist[item])
        if len(expected) < n and (a < 0 or per_artist.get(a, 0) < cap):
            expected.append(item)
            per_artist[a] = per_artist.get(a, 0) + 1
    assert rerank(items, scores, n, item_artist=artist, max_per_artist=cap) == expected
    assert rerank(items, scores, n) == items[np.argsort(-scores, kind="stable")][:n].tolist()


def test_weight_tuning_scores_every_grid_point_as_the_per_user_blend() -> None:
    rng = np.random.default_rng(2)
    names = ("cf", "item", "graph", "content", "popularity", "social")
    cached = []
    for _ in range(40):
        size = int(rng.integers(12, 60))
        items = np.sort(rng.choice(500, size, replace=False))
        z = rng.normal(size=(len(names), size)).astype(np.float32)
        relevant = set(rng.choice(items, int(rng.integers(1, 6)), replace=False).tolist())
        cached.append((Candidates(items, z, names, int(rng.integers(0, 40))), relevant))
    grid = {"cf": (0.5, 2.0), "graph": (0.0, 1.0), "content": (0.0, 2.0), "social": (0.0, 0.5)}
    best, log = tune_weights([cached], grid, 10)
    assert len(log) == 16
    for entry in log:
        weights = BlendWeights(**{key: entry[key] for key in grid})
        reference = []
        for candidates, relevant in cached:
            blended, _ = candidates.blend(weights)
            ranked = candidates.items[np.argsort(-blended, kind="stable")[:10]]
            hits = np.array([item in relevant for item in ranked.tolist()], dtype=np.float64)
            discounts = 1.0 / np.log2(np.arange(2, 12))
            reference.append((hits * discounts).sum() / discounts[: min(len(relevant), 10)].sum())
        assert entry["ndcg@10"] == pytest.approx(np.mean(reference), abs=1e-9)
    assert max(entry["ndcg@10"] for entry in log) == pytest.approx(
        max(e["ndcg@10"] for e in log if all(e[k] == getattr(best, k) for k in grid))
    )


def _random_fold(rng: np.random.Generator, users: int) -> list[tuple[Candidates, set[int]]]:
    names = ("cf", "item", "content")
    fold = []
    for _ in range(users):
        items = np.sort(rng.choice(300, int(rng.integers(12, 40)), replace=False))
        z = rng.normal(size=(len(names), len(items))).astype(np.float32)
        relevant = set(rng.choice(items, int(rng.integers(1, 4)), replace=False).tolist())
        fold.append((Candidates(items, z, names, 20), relevant))
    return fold


def test_weight_tuning_over_folds_picks_the_best_mean_over_all_their_users() -> None:
    rng = np.random.default_rng(4)
    folds = [_random_fold(rng, 30), _random_fold(rng, 50)]
    grid = {"cf": (0.0, 0.5, 2.0), "content": (0.0, 1.0, 3.0)}
    singles = [tune_weights([fold], grid, 10)[1] for fold in folds]
    best, log = tune_weights(folds, grid, 10)
    assert len(log) == 9
    means = []
    for entry, first, second in zip(log, *singles, strict=True):
        assert entry["folds"] == pytest.approx([first["ndcg@10"], second["ndcg@10"]])
        pooled = (30 * first["ndcg@10"] + 50 * second["ndcg@10"]) / 80
        assert entry["ndcg@10"] == pytest.approx(pooled)
        means.append(entry["ndcg@10"])
    winner = log[int(np.argmax(means))]
    assert (best.cf, best.content) == (winner["cf"], winner["content"])
    # The folds disagree on these draws, so the pooled pick is not simply fold 0's.
    picks = {
        tuple(max(fold_log, key=lambda e: e["ndcg@10"])[k] for k in grid) for fold_log in singles
    }
    assert len(picks) == 2


def test_hybrid_tunes_on_independent_validation_folds(synthetic: SyntheticData) -> None:
    log = synthetic.interactions
    split = make_split(log, "random", seed=0)
    data = TrainData(split.train, net_weights(split.train, ConfidenceWeights()))
    options = ModelOptions(seed=0, quick=True)
    assert HybridModel(options).n_folds(data) == 1, "quick mode keeps one fold"
    single_split = TrainData(data.interactions, data.net, validation_folds=1)
    assert HybridModel(options, folds=3).n_folds(single_split) == 1
    with pytest.raises(ValueError):
        HybridModel(options, folds=0)
    hybrid = HybridModel(options, content=_features(synthetic), folds=2)
    result = run_evaluation(log, split, [hybrid], quick=True, seed=0)
    params = result.models["hybrid"].params
    assert params["validation_folds"] == 2
    per_fold = np.array([entry["folds"] for entry in params["grid"]])
    assert per_fold.shape == (len(params["grid"]), 2)
    assert not np.allclose(per_fold[:, 0], per_fold[:, 1]), "two different validation splits"
    assert result.models["hybrid"].metrics["ndcg@10"] > 0


def test_tag_pseudo_users_follow_the_real_users_at_the_confidence_scale() -> None:
    confidence = sparse.csr_matrix(np.array([[3.0, 0, 1.0], [0, 2.0, 2.0]], dtype=np.float32))
    # Tag 0 on items 0 and 2 (counts 2, 1), tag 1 on item 1 only (one item: no row).
    tags = sparse.csr_matrix(np.array([[2, 0], [0, 5], [1, 0]], dtype=np.float32))
    stacked = tag_pseudo_users(confidence, tags, 0.5).toarray()
    assert stacked.shape == (3, 3)
    assert np.array_equal(stacked[:2], confidence.toarray())
    pseudo = stacked[2]
    assert pseudo[1] == 0.0 and pseudo[0] > pseudo[2] > 0.0
    assert np.isclose(pseudo[pseudo > 0].mean(), 0.5 * confidence.data.mean())
    assert np.array_equal(tag_pseudo_users(confidence, tags, 0.0).toarray(), confidence.toarray())


def test_relative_to_user_median_puts_every_users_typical_item_at_one() -> None:
    net = sparse.csr_matrix(
        np.array([[1.0, 3.0, 9.0, 0.0], [1000.0, 0.0, 4000.0, 100.0], [-2.0, 0.0, 0.0, 5.0]])
    )
    relative = relative_to_user_median(net).toarray()
    # A light and a heavy user with the same shape of counts get comparable weights...
    np.testing.assert_allclose(relative[0], [1 / 3, 1.0, 3.0, 0.0])
    np.testing.assert_allclose(relative[1], [1.0, 0.0, 4.0, 0.1])
    # ...and non-positive cells (dislikes) are dropped before the median is taken.
    np.testing.assert_allclose(relative[2], [0.0, 0.0, 0.0, 1.0])


def test_relative_rows_keep_the_mean_of_log1p_and_the_within_user_order() -> None:
    rng = np.random.default_rng(1)
    net = sparse.random(40, 60, density=0.3, random_state=2, format="csr")
    net.data = np.exp(rng.normal(3.0, 2.0, net.nnz))  # heavy-tailed play counts
    rows, scale = relative_rows(net)
    assert scale > 0
    assert rows.data.mean() == pytest.approx(np.log1p(net.data).mean(), rel=1e-5)
    for user in range(net.shape[0]):
        counts, values = net[user].toarray().ravel(), rows[user].toarray().ravel()
        played = counts > 0
        assert (np.argsort(counts[played]) == np.argsort(values[played])).all()


@pytest.mark.parametrize("kind", ["median", "rank"])
def test_relative_row_source_scores_the_relative_row_of_the_engines_log1p_row(kind: str) -> None:
    rng = np.random.default_rng(4)
    net = sparse.random(80, 50, density=0.2, random_state=5, format="csr")
    net.data = np.round(np.exp(rng.normal(2.0, 1.5, net.nnz))) + 1
    relative, scale = relative_rows(net, kind=kind)
    inner = ItemItemSource(cosine_neighbours(relative, 20))
    view = RelativeRowSource(inner, scale, kind)
    assert view.name == inner.name
    items = np.arange(50)
    for user in range(10):
        log_row = log_weighted(net[user])  # what the engine and the product pass
        np.testing.assert_allclose(
            view.scores(log_row, items), inner.scores(relative[user], items), rtol=1e-4
        )
        assert not np.allclose(
            inner.scores(log_row, items), inner.scores(relative[user], items), rtol=1e-4
        ), "the view must change what the source sees"


def test_relative_engine_recommends_and_rejects_unknown_groups(synthetic: SyntheticData) -> None:
    log = synthetic.interactions
    data = TrainData(log, net_weights(log, ConfidenceWeights()))
    engine = build_engine(data, quick=True, weights=BlendWeights(), relative=RELATIVE_GROUPS)
    names = {type(source).__name__ for source in engine.sources.values()}
    assert "RelativeRowSource" in names
    found = engine.recommend(engine.history_row([1, 2, 3], [50.0, 2.0, 1.0]), 10)
    assert len(found) == 10 and all(r.explanation is not None for r in found)
    with pytest.raises(ValueError, match="subset"):
        build_engine(data, quick=True, relative=frozenset({"social"}))


def test_within_user_rank_keeps_only_the_order_of_a_users_counts() -> None:
    net = sparse.csr_matrix(
        np.array([[5.0, 500.0, 0.0, 50.0], [2.0, -1.0, 1.0, 0.0], [3.0, 3.0, 0.0, 7.0]])
    )
    ranks = within_user_rank(net).toarray()
    np.testing.assert_allclose(ranks[0], [1 / 3, 1.0, 0.0, 2 / 3])
    np.testing.assert_allclose(ranks[1], [1.0, 0.0, 0.5, 0.0])  # the skip is dropped
    np.testing.assert_allclose(ranks[2], [0.5, 0.5, 0.0, 1.0])  # equal plays, equal weight
    rows, scale = relative_rows(net, kind="rank")
    np.testing.assert_allclose(rows.toarray(), scale * ranks, rtol=1e-6)
    with pytest.raises(ValueError, match="kind"):
        relative_rows(net, kind="zscore")


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 12), st.integers(1, 15)),
    seed=st.integers(0, 2**16),
    density=st.floats(0.05, 1.0),
)
def test_within_user_rank_equals_ranking_each_user_alone(
    shape: tuple[int, int], seed: int, density: float
) -> None:
    """All users in one sort give what scipy's rankdata gives user by user (ties, skips
    and empty users included)."""
    rng = np.random.default_rng(seed)
    dense = rng.integers(-2, 5, size=shape).astype(float)  # few values: many ties
    dense[rng.random(shape) > density] = 0.0
    got = within_user_rank(sparse.csr_matrix(dense)).toarray()
    for user, counts in enumerate(dense):
        positive = counts > 0
        want = np.zeros(len(counts))
        if positive.any():
            ranks = rankdata(-counts[positive], method="average") - 1.0
            want[positive] = 1.0 - ranks / positive.sum()
        np.testing.assert_allclose(got[user], want, rtol=0, atol=1e-12)

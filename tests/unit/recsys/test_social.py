"""The social source ("popular with people you follow") and its place in the hybrid."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.datasets.hetrec import follow_matrix, load_follows
from audotics.ml.datasets.synthetic import generate_synthetic
from audotics.ml.evaluate.hybrid import HybridModel
from audotics.ml.evaluate.models import ModelOptions
from audotics.ml.evaluate.runner import make_split, run_evaluation
from audotics.ml.recommend.engine import BlendWeights, RecommendationEngine
from audotics.ml.recommend.social import FollowedListening, SocialGraph
from audotics.ml.recommend.sources import PopularitySource

N_ITEMS = 8


def _listening(rows: dict[int, dict[int, float]], n_users: int) -> sparse.csr_matrix:
    matrix = sparse.lil_matrix((n_users, N_ITEMS), dtype=np.float32)
    for user, items in rows.items():
        for item, weight in items.items():
            matrix[user, item] = np.log1p(weight)
    return sparse.csr_matrix(matrix)


def _follows(pairs: list[tuple[int, int]], n_users: int) -> sparse.csr_matrix:
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_users, n_users)
    )


def test_a_followed_users_favourites_come_first() -> None:
    # User 0 shares item 0 with user 1 (so their tastes overlap) and follows them.
    listening = _listening({0: {0: 5}, 1: {0: 2, 3: 400, 5: 50, 6: 3}, 2: {7: 900}}, 3)
    source = SocialGraph(_follows([(0, 1)], 3), listening).for_user(0)
    assert source.name == "social"
    top = source.top(listening[0], 3)
    assert top.tolist() == [3, 5, 6]
    scores = source.scores(listening[0], np.array([3, 5, 6, 7]))
    assert scores[0] > scores[1] > scores[2] > 0
    assert scores[3] == 0, "user 2 is not followed"
    assert source.friend(3) == 1
    assert source.because(listening[0], 3) is None


def test_only_cells_of_the_given_listening_matrix_are_read() -> None:
    # Item 4 is the friend's held-out listen: absent from the training matrix.
    train = _listening({0: {0: 5}, 1: {0: 2, 3: 40}}, 2)
    full = _listening({0: {0: 5}, 1: {0: 2, 3: 40, 4: 1000}}, 2)
    assert full[1, 4] > 0 and train[1, 4] == 0
    source = SocialGraph(_follows([(0, 1)], 2), train).for_user(0)
    assert 4 not in source.top(train[0], N_ITEMS).tolist()
    assert set(source.items.tolist()) <= set(train[1].indices.tolist())
    assert source.scores(train[0], np.array([4]))[0] == 0
    assert source.friend(4) is None


def test_friends_sharing_the_users_taste_weigh_more() -> None:
    listening = _listening(
        {0: {0: 9, 1: 9}, 1: {0: 9, 1: 9, 2: 90}, 2: {6: 9, 7: 9, 5: 9}},
        3,
    )
    follows = _follows([(0, 1), (0, 2)], 3)
    tasteful = SocialGraph(follows, listening).for_user(0)
    assert tasteful.top(listening[0], 1).tolist() == [2]
    assert tasteful.scores(listening[0], np.array([5]))[0] == 0, "no overlap, no vote"
    even = SocialGraph(follows, listening, taste=False).for_user(0)
    assert even.scores(listening[0], np.array([5]))[0] > 0


def test_a_user_following_nobody_gets_nothing() -> None:
    listening = _listening({0: {0: 5}, 1: {3: 40}}, 2)
    source = SocialGraph(_follows([(1, 0)], 2), listening).for_user(0)
    assert source.top(listening[0], 5).size == 0
    assert not source.scores(listening[0], np.arange(N_ITEMS)).any()


def test_two_hops_reach_friends_of_friends_at_their_weight() -> None:
    listening = _listening({0: {0: 5}, 1: {0: 5, 2: 5}, 2: {0: 5, 2: 5, 6: 5}}, 3)
    follows = _follows([(0, 1), (1, 2)], 3)
    assert SocialGraph(follows, listening).for_user(0).scores(listening[0], np.array([6]))[0] == 0
    reached = SocialGraph(follows, listening, two_hop=0.5).for_user(0)
    assert reached.scores(listening[0], np.array([6]))[0] > 0


def test_the_graph_refuses_a_follow_matrix_of_another_size() -> None:
    with pytest.raises(ValueError, match="expected"):
        SocialGraph(_follows([], 3), _listening({}, 2))


def test_follow_matrix_maps_raw_ids_and_drops_unknown_users(tmp_path: Path) -> None:
    (tmp_path / "user_friends.dat").write_text(
        "userID\tfriendID\n2\t7\n7\t2\n2\t99\n5\t5\n2\t7\n", encoding="utf-8"
    )
    follows = load_follows(tmp_path, ("2", "5", "7"))
    assert follows.toarray().tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    assert follow_matrix(np.zeros((0, 2), dtype=np.int64), ("1",)).nnz == 0
    assert load_follows(tmp_path / "missing", ("1", "2")).nnz == 0


def test_the_hybrid_tunes_a_social_weight_from_training_listening_only() -> None:
    synthetic = generate_synthetic(300, 400, seed=3)
    log = synthetic.interactions
    # Everyone follows five users of their own taste cluster.
    rng = np.random.default_rng(0)
    pairs = []
    for user, cluster in enumerate(synthetic.user_cluster.tolist()):
        peers = np.flatnonzero(synthetic.user_cluster == cluster)
        peers = peers[peers != user]
        pairs += [(user, int(p)) for p in rng.choice(peers, min(5, len(peers)), replace=False)]
    follows = _follows(pairs, log.n_users)
    split = make_split(log, "random", 0)
    # log1p rows for the item sources: with their within-user ranks (the default) the
    # quick grid picks social 0 on this synthetic data (not investigated), and this
    # test is about the social weight's tuning path, not about the weighting.
    hybrid = HybridModel(ModelOptions(seed=0, quick=True), relative=frozenset())
    result = run_evaluation(log, split, [hybrid], quick=True, follows=follows)
    grid = result.models["hybrid"].params["grid"]
    assert {entry["social"] for entry in grid} == {0.0, 0.25}
    assert result.models["hybrid"].params["social_weight"] == hybrid.weights.social
    # Followed users of the same taste cluster are worth a weight on validation.
    assert hybrid.weights.social > 0 and hybrid.graph is not None
    rows = hybrid._rows  # the final graph reads the training matrix, not the test
    for user in range(0, log.n_users, 37):
        reached = hybrid.graph.for_user(user).items
        followed = hybrid.graph.followed(user)
        assert np.all(np.asarray(rows[followed][:, reached].sum(axis=0)).ravel() > 0)


def test_fresh_follows_score_like_the_graph_and_a_newcomer_hears_everyone() -> None:
    listening = _listening({0: {0: 5}, 1: {0: 2, 3: 400}, 2: {7: 900}, 3: {5: 10}}, 4)
    graph = SocialGraph(_follows([(0, 1), (0, 2)], 4), listening).for_user(0)
    fresh = FollowedListening(listening).source(np.array([1, 2]), user_row=listening[0])
    assert fresh.items.tolist() == graph.items.tolist()
    assert np.allclose(fresh.values, graph.values)
    # User 2 shares nothing with user 0, so their listening carries no weight...
    assert 7 not in fresh.items.tolist()
    # ...but someone with no history yet weighs everyone they follow the same.
    empty = sparse.csr_matrix((1, N_ITEMS), dtype=np.float32)
    newcomer = FollowedListening(listening).source(np.array([1, 2]), user_row=empty)
    assert {3, 7} <= set(newcomer.items.tolist())
    assert newcomer.friend(7) == 2 and newcomer.friend(5) is None


def test_the_engine_takes_a_per_request_source_with_its_own_weight() -> None:
    listening = _listening({0: {0: 5}, 1: {0: 2, 3: 400}, 2: {1: 3, 2: 3}}, 3)
    popular = PopularitySource(np.array([9, 8, 7, 0, 0, 0, 0, 0]))
    engine = RecommendationEngine(
        [popular], BlendWeights(popularity=1.0, social=2.0), n_items=N_ITEMS
    )
    social = FollowedListening(listening).source(np.array([1]), user_row=listening[0])
    row = listening[0]
    plain = engine.recommend(row, 2)
    assert 3 not in [r.item for r in plain]
    with_friend = engine.recommend(row, 2, per_request=(social,))
    assert with_friend[0].item == 3
    assert with_friend[0].explanation.kind == "social"
    assert with_friend[0].explanation.seed_user == 1
    assert "social" not in engine.sources, "a per-request source is not kept"
    renamed = dataclasses.replace(social, name="gossip")
    with pytest.raises(ValueError, match="gossip"):
        engine.recommend(row, 3, per_request=(renamed,))


def test_a_floor_lets_a_follow_with_no_overlap_through_below_the_overlapping_ones() -> None:
    # User 0 shares item 0 with user 1 and nothing with user 2; both friends play two
    # items with the same weights, so their items differ only by the friend's weight.
    listening = _listening(
        {0: {0: 5, 1: 3}, 1: {0: 20, 3: 20}, 2: {6: 20, 7: 20}, 3: {1: 1, 4: 20}}, 4
    )
    people, row = np.array([1, 2]), listening[0]
    plain = FollowedListening(listening).source(people, user_row=row)
    assert 7 not in plain.items.tolist(), "the evaluation's weighting: no overlap, no vote"

    floored = FollowedListening(listening, floor=0.1).source(people, user_row=row)
    three, seven = floored.scores(row, np.array([3, 7]))
    assert seven > 0, "the follow with nothing in common contributes candidates"
    assert seven < three, "and ranks below the one who shares the user's taste"
    assert np.isclose(seven / three, 0.1, rtol=1e-4)
    assert 7 in floored.top(row, 10).tolist() and floored.friend(7) == 2
    assert np.allclose(floored.scores(row, np.array([0, 3])), plain.scores(row, np.array([0, 3])))
    # The floor is a share of the best match among the people, whoever that is.
    weights = FollowedListening(listening, floor=0.1).taste_weights(row, np.array([1, 2, 3]))
    assert np.isclose(weights[1], 0.1 * weights.max()) and 0 < weights[1] < weights[2]

    engine = RecommendationEngine(
        [PopularitySource(np.ones(N_ITEMS))],
        BlendWeights(popularity=1.0, social=1.0),
        n_items=N_ITEMS,
    )
    ranked = [r.item for r in engine.recommend(row, 4, per_request=(floored,))]
    assert ranked.index(3) < ranked.index(7), ranked


def test_with_a_floor_people_sharing_nothing_with_the_user_count_alike() -> None:
    listening = _listening({0: {0: 5}, 1: {3: 40}, 2: {7: 40, 6: 40}}, 3)
    weights = FollowedListening(listening, floor=0.1).taste_weights(listening[0], np.array([1, 2]))
    assert weights.tolist() == [1.0, 1.0]
    assert not FollowedListening(listening).taste_weights(listening[0], np.array([1, 2])).any()
    with pytest.raises(ValueError, match="floor"):
        FollowedListening(listening, floor=1.5)


def test_nobody_you_follow_is_named_for_an_item_none_of_them_plays() -> None:
    # The followed user 1 plays only item 3. Item 6 is co-listened weakest of all, so its
    # social z-score (no one plays it) beats its co-listening one: "social" would top its
    # contributions, yet naming the people you follow for it would be untrue.
    listening = _listening({0: {0: 5}, 1: {0: 1, 3: 40}}, 2)
    from audotics.ml.recommend.sources import ItemItemSource

    similarity = sparse.csr_matrix(
        (np.array([0.9, 0.5, 0.05], np.float32), ([0, 0, 0], [4, 5, 6])), shape=(8, 8)
    )
    engine = RecommendationEngine(
        [ItemItemSource(similarity, name="knn")],
        BlendWeights(cf=0, item=0, knn=1.0, content=0, popularity=0, social=1.0, half_history=0),
        n_items=N_ITEMS,
        retrieve_of={"social": 5},
    )
    social = SocialGraph(_follows([(0, 1)], 2), listening).for_user(0)
    found = engine.recommend(listening[0], 4, per_request=(social,))
    by_item = {r.item: r for r in found}
    assert set(by_item) == {3, 4, 5, 6}
    assert by_item[3].explanation.kind == "social" and by_item[3].explanation.seed_user == 1
    six = by_item[6]
    assert six.contributions["social"] > six.contributions["knn"], six  # the trap is set
    assert six.explanation.kind == "knn" and six.explanation.seed_item == 0, six

"""Seeded recommendation pieces: side blending, listening share, personal scores on any
candidate set, and the daily mix's draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.recommend import BlendWeights, RecommendationEngine
from audotics.ml.recommend.seeded import (
    UnitNeighbours,
    blend_sides,
    cosine_scores,
    daily_mix,
    day_generator,
    listening_share,
    personal_scores,
    sparse_row,
    top_items,
    unit_rows,
)
from audotics.ml.recommend.sources import ItemItemSource, PopularitySource


def test_blend_takes_every_side_and_explains_by_the_largest_contribution() -> None:
    sides = {"sound": {"a": 0.9, "b": 0.2}, "cf": {"b": 0.8, "c": 0.5}}
    blended = blend_sides(sides, {"sound": 1.0, "cf": 1.0})
    assert [b.key for b in blended] == ["b", "a", "c"]
    assert blended[0].score == pytest.approx(1.0) and blended[0].kind == "cf"
    assert blended[1].kind == "sound"
    # A side with no weight proposes nothing and explains nothing.
    only_sound = blend_sides(sides, {"sound": 1.0, "cf": 0.0})
    assert [b.key for b in only_sound] == ["a", "b"]
    assert {b.kind for b in only_sound} == {"sound"}


def test_listening_share_is_zero_for_a_new_track_and_grows() -> None:
    assert listening_share(0) == 0.0
    assert listening_share(3) == pytest.approx(0.5)
    assert listening_share(1) < listening_share(10) < 1.0


def test_neighbours_by_cosine_and_sparse_rows() -> None:
    unit = unit_rows(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0]]))
    scores = cosine_scores(unit, np.array([2.0, 0.0]))
    assert scores[3] == 0.0  # an item without a vector never scores
    assert [i for i, _ in top_items(scores, 5, exclude=[0])] == [1]  # positive ones only
    assert [i for i, _ in top_items(scores, 5, positive=False)][:2] == [0, 1]
    matrix = sparse.csr_matrix(np.array([[0, 0.5, 0.0], [0.5, 0, 0.2], [0, 0.2, 0]]))
    assert sparse_row(matrix, 1) == {0: 0.5, 2: pytest.approx(0.2)}


def test_personal_scores_follow_the_engine_on_any_items() -> None:
    similarity = sparse.csr_matrix(
        np.array([[0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 0, 0, 1.0], [0, 0, 1.0, 0]])
    )
    engine = RecommendationEngine(
        [ItemItemSource(similarity, name="knn"), PopularitySource(np.array([1, 1, 9, 1]))],
        BlendWeights(cf=0.0, item=0.0, knn=1.0, content=0.0, popularity=1.0, half_history=1.0),
        n_items=4,
    )
    newcomer = engine.history_row([])
    scores, kinds = personal_scores(engine, newcomer, np.array([1, 2, 3]))
    assert int(np.argmax(scores)) == 1 and set(kinds) == {"popularity"}  # popular item 2
    listener = engine.history_row([0], [5.0])
    scores, kinds = personal_scores(engine, listener, np.array([1, 3]))
    assert scores[0] > scores[1] and kinds[0] == "knn"  # co-listened with item 0


def test_the_daily_mix_is_the_same_for_the_same_day_and_differs_otherwise() -> None:
    familiar = [f"f{i}" for i in range(10)]
    weights = [float(10 - i) for i in range(10)]
    discoveries = [f"d{i}" for i in range(40)]

    def mix(*seed: str) -> list[tuple[str, bool]]:
        return daily_mix(
            familiar, weights, discoveries, 20, familiar_share=0.3, rng=day_generator(*seed)
        )

    today = mix("user", "2026-12-03")
    assert today == mix("user", "2026-12-03")
    assert today != mix("user", "2026-12-04") and today != mix("other", "2026-12-03")
    assert len(today) == 20 and len({key for key, _ in today}) == 20
    known = [position for position, (_, is_familiar) in enumerate(today) if is_familiar]
    assert len(known) == 6 and all(today[p][0].startswith("f") for p in known)
    assert known[0] > 0 and known[-1] < 19 and min(np.diff(known)) >= 2  # spread out
    assert all(key.startswith("d") for key, is_familiar in today if not is_familiar)


def test_a_short_side_is_made_up_from_the_other() -> None:
    rng = day_generator("x")
    few_discoveries = daily_mix(["a", "b", "c"], [1, 1, 1], ["z"], 4, familiar_share=0.25, rng=rng)
    assert sorted(key for key, _ in few_discoveries) == ["a", "b", "c", "z"]
    nothing_known = daily_mix([], [], ["y", "z"], 5, familiar_share=0.3, rng=rng)
    assert nothing_known == [("y", False), ("z", False)]


def _clustered_unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((24, dim))
    rows = centres[rng.integers(0, 24, n)] + 0.35 * rng.standard_normal((n, dim))
    rows[rng.random(n) < 0.1] = 0.0  # unanalysed / unplayed: zero rows
    return unit_rows(rows.astype(np.float32))


def test_unit_neighbours_scan_below_the_threshold_is_the_exact_top() -> None:
    unit = _clustered_unit_rows(3000, 16, 0)
    near = UnitNeighbours(unit)  # below ANN_ABOVE: no index
    assert near.index is None
    seed = int(np.flatnonzero(unit.any(axis=1))[0])
    found = near.nearest(unit[seed] * 3.0, 50, exclude=[seed])  # any length of query
    assert found == top_items(cosine_scores(unit, unit[seed]), 50, exclude=[seed])
    assert seed not in {i for i, _ in found} and all(v > 0 for _, v in found)
    items = np.array([*[i for i, _ in found][:10], seed], dtype=np.int64)
    np.testing.assert_allclose(
        near.scores(unit[seed], items), unit[items] @ unit[seed], rtol=1e-5, atol=1e-6
    )
    assert near.nearest(np.zeros(16), 5) == [] and not near.scores(np.zeros(16), items).any()


def test_unit_neighbours_index_finds_nearly_the_exact_neighbours() -> None:
    unit = _clustered_unit_rows(30_000, 16, 1)
    near = UnitNeighbours(unit)  # above ANN_ABOVE: an inverted-file index
    assert near.index is not None
    seeds = np.flatnonzero(unit.any(axis=1))[:40]
    recalls = []
    for seed in seeds.tolist():
        found = near.nearest(unit[seed], 100, exclude=[seed])
        exact = top_items(cosine_scores(unit, unit[seed]), 100, exclude=[seed])
        assert seed not in {i for i, _ in found} and len(found) == 100
        scores = [v for _, v in found]
        assert scores == sorted(scores, reverse=True)  # exact cosines, best first
        np.testing.assert_allclose(
            scores, unit[[i for i, _ in found]] @ unit[seed], rtol=1e-5, atol=1e-6
        )
        recalls.append(len({i for i, _ in found} & {i for i, _ in exact}) / 100)
    assert np.mean(recalls) >= 0.95, np.mean(recalls)

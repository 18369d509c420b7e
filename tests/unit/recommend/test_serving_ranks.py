"""The product's serving state weighs play counts as the measured offline hybrid does: the
item sources (knn, graph, content) read within-user ranks, CF and popularity log1p."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights, within_user_rank
from audotics.ml.evaluate import hybrid
from audotics.ml.recommend.neighbours import cosine_neighbours
from audotics.ml.recommend.relative import RelativeRowSource, relative_rows
from audotics.ml.recommend.sources import ContentSource, ItemItemSource, PopularitySource
from audotics.services.analytics.schemas import Interaction, ItemKind
from audotics.services.catalog.features import SoundEmbedding
from audotics.services.recommendations.serving import (
    ITEM_ROWS_KIND,
    ServingState,
    build_state,
    net_weight,
)
from tests.support.factories import track_summary

# Tracks: the skewed user's a (1000 plays), b (2), c, d (1 each); x is co-listened with a
# only, y with b, c and d; e and f are filler so every user has a few items.
NAMES = ("a", "b", "c", "d", "x", "y", "e", "f")
# Sound: x sounds like a, y like b, c and d (two orthogonal directions).
DIRECTION = {"a": 0, "x": 0, "b": 1, "c": 1, "d": 1, "y": 1, "e": 2, "f": 3}


TRACKS = {name: track_summary(name) for name in NAMES}
SKEWED = uuid.uuid5(uuid.NAMESPACE_OID, "skewed")
# user -> {track: plays}: P plays a and x alike, Q, R and S play y with one of b, c, d.
LISTENING: dict[uuid.UUID, dict[str, int]] = {
    uuid.uuid5(uuid.NAMESPACE_OID, "P"): {"a": 3, "x": 3},
    uuid.uuid5(uuid.NAMESPACE_OID, "Q"): {"b": 3, "y": 3},
    uuid.uuid5(uuid.NAMESPACE_OID, "R"): {"c": 3, "y": 3},
    uuid.uuid5(uuid.NAMESPACE_OID, "S"): {"d": 3, "y": 3},
    uuid.uuid5(uuid.NAMESPACE_OID, "T"): {"e": 5, "f": 1, "a": 2},
    SKEWED: {"a": 1000, "b": 2, "c": 1, "d": 1},
}


def _interactions() -> list[Interaction]:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return [
        Interaction(user, ItemKind.track, TRACKS[name].id, plays, 0, 0, 0, at)
        for user, played in LISTENING.items()
        for name, plays in played.items()
    ]


def _embeddings() -> list[SoundEmbedding]:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    out = []
    for name, track in TRACKS.items():
        vector = np.zeros(8, dtype=np.float32)
        vector[DIRECTION[name]] = 1.0
        out.append(SoundEmbedding(track.id, None, vector, at))
    return out


@pytest.fixture(scope="module")
def state() -> ServingState:
    return build_state(_interactions(), _embeddings(), {t.id: t for t in TRACKS.values()}, None)


def _net(state: ServingState) -> sparse.csr_matrix:
    """The net-weight matrix of the listening, rows in the state's user order (own arithmetic)."""
    net = np.zeros((len(state.user_ids), len(state.track_ids)))
    weights = ConfidenceWeights()
    for row in _interactions():
        net[state.user_index[row.user_id], state.index_of[row.item_id]] += net_weight(row, weights)
    return sparse.csr_matrix(net)


def _items(state: ServingState, *names: str) -> np.ndarray:
    return np.array([state.index_of[TRACKS[n].id] for n in names], dtype=np.int64)


def test_serving_reads_item_rows_as_the_offline_hybrid_measured() -> None:
    assert "items" in hybrid.USER_RELATIVE and "cf" not in hybrid.USER_RELATIVE
    assert ITEM_ROWS_KIND == hybrid.USER_RELATIVE_KIND


def test_the_knn_matrix_is_the_cosine_kNN_of_the_rank_matrix(state: ServingState) -> None:
    net = _net(state)
    ranks, _ = relative_rows(net, kind="rank")
    expected = cosine_neighbours(ranks, 100).toarray()
    knn = state.engine.sources["knn"]
    assert isinstance(knn, RelativeRowSource) and isinstance(knn.inner, ItemItemSource)
    np.testing.assert_allclose(knn.inner.similarity.toarray(), expected, atol=1e-6)
    logged = sparse.csr_matrix(net)
    logged.data = np.log1p(logged.data)
    assert not np.allclose(expected, cosine_neighbours(logged, 100).toarray(), atol=1e-3)
    # Similar tracks and radio read the same item-item matrix.
    assert state.co_listening is knn.inner.similarity


def test_cf_and_popularity_keep_the_log1p_row_and_the_item_sources_share_one_memo(
    state: ServingState,
) -> None:
    sources = state.engine.sources
    wrapped = [sources[name] for name in ("knn", "graph", "content")]
    assert all(isinstance(s, RelativeRowSource) and s.kind == "rank" for s in wrapped)
    assert len({id(s.memo) for s in wrapped if isinstance(s, RelativeRowSource)}) == 1
    popularity = sources["popularity"]
    assert isinstance(popularity, PopularitySource)
    assert isinstance(popularity.content, ContentSource)  # the unwrapped one: log1p row
    content = sources["content"]
    assert isinstance(content, RelativeRowSource) and popularity.content is content.inner


def test_a_skewed_users_item_scores_follow_their_ranks_not_their_counts(
    state: ServingState,
) -> None:
    rows = [r for r in _interactions() if r.user_id == SKEWED]
    row, disliked = state.row(rows)
    assert not disliked
    # The rank row the item sources must see: 1 - rank/n of the user's own counts, x scale.
    user_net = _net(state)[state.user_index[SKEWED]]
    scale = state.engine.sources["knn"].scale  # type: ignore[attr-defined]
    ranks = within_user_rank(user_net)
    ranks.data *= scale
    np.testing.assert_allclose(
        sorted(ranks.data / scale), [0.375, 0.375, 0.75, 1.0], rtol=1e-9
    )  # a 1, b 0.75, c and d share the mean rank
    candidates = _items(state, "x", "y")
    x, y = candidates.tolist()
    for name in ("knn", "graph", "content"):
        source = state.engine.sources[name]
        assert isinstance(source, RelativeRowSource)
        np.testing.assert_allclose(
            source.scores(row, candidates), source.inner.scores(ranks, candidates), rtol=1e-5
        )
    # a's 1000 plays dominate log1p (x first); by rank, b + c + d together outweigh a (y).
    for name in ("knn", "content"):
        source = state.engine.sources[name]
        assert isinstance(source, RelativeRowSource)
        by_rank = source.scores(row, candidates)
        by_log = source.inner.scores(row, candidates)
        assert by_rank[1] > by_rank[0], (name, by_rank)
        assert by_log[0] > by_log[1], (name, by_log)
    ranked = [r.item for r in state.engine.recommend(row, 4)]  # x, y, e and f: all unplayed
    assert ranked[0] == y and ranked.index(x) > ranked.index(y), ranked


def test_explanations_name_a_played_track_through_the_rank_rows(state: ServingState) -> None:
    rows = [r for r in _interactions() if r.user_id == SKEWED]
    row, _ = state.row(rows)
    history = set(row.indices.tolist())
    candidates = _items(state, "x", "y")
    b = int(_items(state, "b")[0])
    a = int(_items(state, "a")[0])
    knn = state.engine.sources["knn"]
    assert knn.because_many(row, candidates) == [a, b]  # type: ignore[attr-defined]
    assert knn.because(row, int(candidates[1])) == b
    content = state.engine.sources["content"]
    assert content.because(row, int(candidates[0])) == a
    assert content.because(row, int(candidates[1])) in history - {a}
    for found in state.engine.recommend(row, 4):
        assert found.explanation is not None
        if found.explanation.kind in ("knn", "graph", "content"):
            assert found.explanation.seed_item in history, found

"""The product's serving state carries the RP3beta item graph the offline hybrid measures,
and every engine source has an explanation kind the API can send."""

from __future__ import annotations

import uuid

import numpy as np
from scipy import sparse

from audotics.ml.evaluate import hybrid
from audotics.ml.recommend import BlendWeights, RecommendationEngine
from audotics.ml.recommend.engine import SOURCE_NAMES
from audotics.ml.recommend.neighbours import RP3_ALPHA, RP3_BETA, rp3beta_neighbours
from audotics.ml.recommend.relative import RelativeRowSource
from audotics.ml.recommend.sources import ItemItemSource, PopularitySource
from audotics.services.analytics.schemas import Interaction, ItemKind
from audotics.services.catalog.schemas import TrackSummary
from audotics.services.recommendations.common import personal_text
from audotics.services.recommendations.generate_schemas import GeneratedReason
from audotics.services.recommendations.schemas import ExplanationKind
from audotics.services.recommendations.serving import (
    GRAPH_NEIGHBOURS,
    SERVING_WEIGHTS,
    build_state,
)
from tests.support.factories import track_summary


def _track(title: str) -> TrackSummary:
    return track_summary(title, has_audio=False)


def test_the_serving_state_serves_the_offline_rp3beta_graph() -> None:
    tracks = [_track(f"Song {i}") for i in range(5)]
    listeners = [uuid.uuid4() for _ in range(4)]
    played = {0: (0, 1), 1: (0, 1, 2), 2: (2, 3), 3: (3, 4)}
    interactions = [
        Interaction(listeners[u], ItemKind.track, tracks[i].id, 2, 1, 0, 0, None)
        for u, items in played.items()
        for i in items
    ]
    state = build_state(interactions, [], {t.id: t for t in tracks}, None)

    assert (RP3_ALPHA, RP3_BETA) == (hybrid.RP3_ALPHA, hybrid.RP3_BETA)
    assert SERVING_WEIGHTS.graph > 0
    graph = state.engine.sources["graph"]
    # It scores the within-user rank row (test_serving_ranks), its walk is the log1p rows'.
    assert isinstance(graph, RelativeRowSource) and isinstance(graph.inner, ItemItemSource)
    rows = state.followed_listening.unit  # the listening matrix, rows scaled
    assert rows is not None
    expected = rp3beta_neighbours(rows, RP3_ALPHA, RP3_BETA, GRAPH_NEIGHBOURS)
    assert np.allclose(graph.inner.similarity.toarray(), expected.toarray(), atol=1e-6)
    assert graph.inner.similarity.nnz > 0 and "knn" in state.engine.sources

    first = state.index_of[tracks[0].id]
    row = state.engine.history_row([first], [3.0])
    reached = graph.top(row, 10).tolist()
    assert reached and first not in reached
    assert all(graph.because(row, item) == first for item in reached)


def test_every_engine_source_is_a_kind_the_api_and_playlists_can_send() -> None:
    assert set(SOURCE_NAMES) <= {kind.value for kind in ExplanationKind}
    assert set(SOURCE_NAMES) <= {reason.value for reason in GeneratedReason}
    track, seed = _track("New"), _track("Old")
    graph, knn = personal_text("graph", track, seed), personal_text("knn", track, seed)
    assert "Old" in graph and graph != knn


def test_a_source_scoring_every_candidate_alike_never_explains_them() -> None:
    # Five equal float32 scores (0.5776 x log1p(1)) whose mean rounds: the flat source must
    # standardise to 0, not to +/-1 (which would make it the reason for every item, or none).
    similarity = sparse.csr_matrix(
        (np.full(5, 0.5776, np.float32), ([0] * 5, [1, 2, 3, 4, 5])), shape=(6, 6)
    )
    graph = sparse.csr_matrix(
        (np.array([0.09, 0.09, 0.23, 0.09, 0.09], np.float32), ([0] * 5, [1, 2, 3, 4, 5])),
        shape=(6, 6),
    )
    engine = RecommendationEngine(
        [
            ItemItemSource(similarity, name="knn"),
            ItemItemSource(graph, name="graph"),
            PopularitySource(np.ones(6)),
        ],
        BlendWeights(cf=0, item=0, knn=1.0, graph=0.5, content=0, popularity=1.0),
        n_items=6,
    )
    found = engine.recommend(engine.history_row([0], [1.0]), 5)
    assert all(r.contributions["knn"] == 0 for r in found), found
    assert found[0].item == 3 and found[0].explanation.kind == "graph"
    assert found[0].explanation.seed_item == 0

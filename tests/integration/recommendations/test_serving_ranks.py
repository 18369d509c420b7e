"""The serving state built from the stored aggregates (both databases) reads play counts as
within-user ranks in its item sources, as the measured offline hybrid does (ADR 0007)."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from audotics.ml.cf.confidence import ConfidenceWeights
from audotics.ml.recommend.neighbours import cosine_neighbours
from audotics.ml.recommend.relative import RelativeRowSource, relative_rows
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind
from audotics.services.recommendations.service import serving_states
from audotics.services.recommendations.serving import net_weight
from tests.integration.analytics.conftest import API, World, listen, world
from tests.support.factories import sign_up

__all__ = ["world"]  # the analytics world fixture: six public tracks by two artists


async def test_a_skewed_listener_is_served_by_ranks_not_counts(world: World) -> None:
    """Alice plays Song 0 twenty times and Songs 1, 3 and 4 once. Song 2 is co-listened with
    Song 0, Song 5 with each of 1, 3 and 4: by her counts Song 2 leads the co-listening
    scores, by her ranks (1 for Song 0, 0.5 for each other) Song 5 does. (Song 5 also has
    more listeners, so the page order alone would not tell the two apart.)"""
    t = world.tracks
    for name, pair in (("p", (0, 2)), ("q", (1, 5)), ("r", (3, 5)), ("s", (4, 5))):
        fan = await sign_up(world.client, f"fan-{name}")
        body = {"listens": [listen(t[i], "complete", minutes=k) for k, i in enumerate(pair)]}
        assert (await world.submit(body, fan)).status_code == 201
    heavy = [listen(t[0], "complete", minutes=10 + k) for k in range(20)]
    light = [listen(t[i], "complete", minutes=40 + i) for i in (1, 3, 4)]
    assert (await world.submit({"listens": heavy + light})).status_code == 201

    response = await world.client.get(
        f"{API}/me/recommendations", params={"limit": 2}, headers=world.alice.headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {item["track"]["id"] for item in items} == {str(t[5]), str(t[2])}, items
    played = {str(t[i]) for i in (0, 1, 3, 4)}
    seeded = [item["explanation"] for item in items if item["explanation"]["seed_track_id"]]
    assert seeded and all(why["seed_track_id"] in played for why in seeded), items

    async with world.app.state.infra.db.session() as session:
        state = await serving_states(world.app.state).get(session)
        rows = await analytics.interactions(session, ItemKind.track)
    # The knn matrix is the cosine kNN of the stored aggregates' within-user ranks.
    net = np.zeros((len(state.user_ids), len(state.track_ids)))
    for row in rows:
        weight = net_weight(row, ConfidenceWeights())
        if weight > 0 and row.item_id in state.index_of:
            net[state.user_index[row.user_id], state.index_of[row.item_id]] += weight
    ranks, _ = relative_rows(sparse.csr_matrix(net), kind="rank")
    knn = state.engine.sources["knn"]
    assert isinstance(knn, RelativeRowSource)
    np.testing.assert_allclose(
        knn.inner.similarity.toarray(),  # type: ignore[attr-defined]
        cosine_neighbours(ranks, 100).toarray(),
        atol=1e-6,
    )
    row, _ = state.row([r for r in rows if r.user_id == world.alice.id])
    candidates = np.array([state.index_of[t[2]], state.index_of[t[5]]], dtype=np.int64)
    by_rank = knn.scores(row, candidates)
    by_count = knn.inner.scores(row, candidates)  # the same matrix fed her log1p row
    assert by_rank[1] > by_rank[0] and by_count[0] > by_count[1], (by_rank, by_count)

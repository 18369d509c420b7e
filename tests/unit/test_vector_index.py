"""VectorIndex: recall against exact cosine, updates, removals, filters and persistence."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from audotics.ml.similarity import IndexFormatError, VectorIndex, normalise


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return normalise(rng.standard_normal((n, dim)))


def test_recall_against_exact_cosine_on_5k_random_vectors() -> None:
    rng = np.random.default_rng(7)
    data = _unit(rng, 5000, 64)
    ids = [uuid.uuid4() for _ in range(len(data))]
    index = VectorIndex(64)
    index.upsert_many(ids, data)
    queries = _unit(rng, 200, 64)
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    hits = 0
    for row, query in enumerate(queries):
        found = {n.id for n in index.query(query, 10)}
        hits += len(found & {ids[i] for i in exact[row]})
    recall = hits / (10 * len(queries))
    assert recall >= 0.95, recall


def test_scores_are_cosine_similarities_best_first() -> None:
    index = VectorIndex(3)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    index.upsert_many([a, b, c], [[1, 0, 0], [1, 1, 0], [0, 0, 5]])
    found = index.query([2, 0, 0], 3)
    assert [n.id for n in found] == [a, b, c]
    assert found[0].score == pytest.approx(1.0, abs=1e-5)
    assert found[1].score == pytest.approx(2**-0.5, abs=1e-5)
    assert found[2].score == pytest.approx(0.0, abs=1e-5)


def test_update_replaces_the_vector_and_remove_forgets_it() -> None:
    index = VectorIndex(2)
    a, b = uuid.uuid4(), uuid.uuid4()
    index.upsert(a, [1, 0])
    index.upsert(b, [0, 1])
    index.upsert(a, [0, 1])  # a moves next to b
    assert len(index) == 2
    assert index.vector(a) == pytest.approx([0, 1])
    assert {n.id for n in index.query([0, 1], 2)} == {a, b}
    assert index.remove(a) is True
    assert index.remove(a) is False
    assert a not in index
    assert [n.id for n in index.query([0, 1], 5)] == [b]


def test_query_excludes_the_seed_and_filters_until_k_are_found() -> None:
    rng = np.random.default_rng(1)
    data = _unit(rng, 400, 16)
    ids = [uuid.uuid4() for _ in range(len(data))]
    index = VectorIndex(16)
    index.upsert_many(ids, data)
    allowed = set(ids[::20])  # 5% pass: forces the search to widen
    found = index.query_id(ids[0], 10, allow=allowed.__contains__)
    assert ids[0] not in {n.id for n in found}
    assert len(found) == 10
    assert all(n.id in allowed for n in found)
    scores = [n.score for n in found]
    assert scores == sorted(scores, reverse=True)
    # The filtered answer is the exact top 10 among the allowed ones.
    allowed_rows = [i for i, item in enumerate(ids) if item in allowed and i != 0]
    exact = sorted(allowed_rows, key=lambda i: -float(data[i] @ data[0]))[:10]
    assert len({n.id for n in found} & {ids[i] for i in exact}) >= 9


def test_many_updates_compact_the_graph_without_losing_items() -> None:
    rng = np.random.default_rng(3)
    ids = [uuid.uuid4() for _ in range(200)]
    index = VectorIndex(8)
    index.upsert_many(ids, _unit(rng, 200, 8))
    latest = _unit(rng, 200, 8)
    for item, vector in zip(ids, latest, strict=True):
        index.upsert(item, vector)
    assert len(index) == 200
    for row in (0, 57, 199):
        assert index.query(latest[row], 1)[0].id == ids[row]


def test_round_trip_through_bytes() -> None:
    rng = np.random.default_rng(5)
    ids = [uuid.uuid4() for _ in range(300)]
    data = _unit(rng, 300, 32)
    index = VectorIndex(32)
    index.upsert_many(ids, data)
    index.remove(ids[5])
    copy = VectorIndex.from_bytes(index.to_bytes())
    assert len(copy) == 299 and ids[5] not in copy
    assert [n.id for n in copy.query(data[9], 5)] == [n.id for n in index.query(data[9], 5)]
    newcomer = uuid.uuid4()
    copy.upsert(newcomer, data[5])  # keys keep counting after a reload
    assert copy.query(data[5], 1)[0].id == newcomer


@pytest.mark.parametrize(
    "blob", [b"", b"not an index at all", VectorIndex(4).to_bytes()[:-3], b"AUDVIDX1\xff\xff"]
)
def test_corrupt_bytes_are_rejected(blob: bytes) -> None:
    with pytest.raises(IndexFormatError):
        VectorIndex.from_bytes(blob)


@pytest.mark.parametrize("bad", [[0.0, 0.0], [float("nan"), 1.0], [float("inf"), 0.0]])
def test_degenerate_vectors_are_rejected(bad: list[float]) -> None:
    index = VectorIndex(2)
    with pytest.raises(ValueError):
        index.upsert(uuid.uuid4(), bad)
    assert len(index) == 0


def test_wrong_dimension_is_rejected() -> None:
    index = VectorIndex(4)
    with pytest.raises(ValueError):
        index.upsert(uuid.uuid4(), [1.0, 0.0])
    with pytest.raises(ValueError):
        index.query([1.0, 0.0], 3)

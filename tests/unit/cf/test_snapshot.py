"""The Parquet snapshot: round trip, content-hash ids, idempotent and atomic writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from audotics.ml.cf.snapshot import (
    EVENTS_FILE,
    prune_snapshots,
    read_snapshot,
    snapshot_id,
    write_snapshot,
)
from audotics.ml.datasets import generate_synthetic
from audotics.ml.datasets.interactions import Interactions


@pytest.fixture(scope="module")
def log() -> Interactions:
    data = generate_synthetic(50, 80, seed=2, mean_events=20).interactions
    timestamp = data.timestamp.copy()
    timestamp[::7] = np.nan  # some events without a time
    return replace(data, timestamp=timestamp)


def test_round_trip_keeps_every_column_and_id(log: Interactions, tmp_path: Path) -> None:
    snapshot = write_snapshot(log, tmp_path)
    assert snapshot.path == tmp_path / snapshot.id
    back = read_snapshot(snapshot.path)
    assert back.id == snapshot.id
    got = back.interactions
    assert got.user_ids == log.user_ids and got.item_ids == log.item_ids
    for name in ("user", "item", "count", "event"):
        assert np.array_equal(getattr(got, name), getattr(log, name)), name
        assert getattr(got, name).dtype == getattr(log, name).dtype, name
    assert np.array_equal(got.timestamp, log.timestamp, equal_nan=True)
    # The file Spark reads: integer ids and the event columns, nothing else.
    schema = pq.read_schema(snapshot.path / EVENTS_FILE)
    assert [(f.name, str(f.type)) for f in schema] == [
        ("user", "int32"),
        ("item", "int32"),
        ("count", "float"),
        ("timestamp", "double"),
        ("event", "int8"),
    ]


def test_the_id_is_a_content_hash(log: Interactions, tmp_path: Path) -> None:
    ident = snapshot_id(log)
    assert ident == snapshot_id(replace(log, count=log.count.copy())) and len(ident) == 24
    changed = log.count.copy()
    changed[3] += 1
    assert snapshot_id(replace(log, count=changed)) != ident
    renamed = (*log.item_ids[:-1], "another-track")
    assert snapshot_id(replace(log, item_ids=renamed)) != ident
    first = write_snapshot(log, tmp_path)
    stamp = (first.path / EVENTS_FILE).stat().st_mtime_ns
    again = write_snapshot(log, tmp_path)  # already there: nothing rewritten
    assert again.path == first.path and (first.path / EVENTS_FILE).stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [ident]  # no staging directory left


def test_a_tampered_snapshot_is_refused(log: Interactions, tmp_path: Path) -> None:
    snapshot = write_snapshot(log, tmp_path)
    other = write_snapshot(replace(log, count=log.count * 2), tmp_path / "other")
    (snapshot.path / EVENTS_FILE).write_bytes((other.path / EVENTS_FILE).read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        read_snapshot(snapshot.path)
    assert read_snapshot(snapshot.path, verify=False).interactions.count[0] == log.count[0] * 2


def test_pruning_keeps_the_newest(log: Interactions, tmp_path: Path) -> None:
    ids = [write_snapshot(replace(log, count=log.count * k), tmp_path).id for k in (1, 2, 3)]
    removed = prune_snapshots(tmp_path, 1, protect=(ids[0],))
    assert removed == [ids[1]]
    assert {p.name for p in tmp_path.iterdir()} == {ids[0], ids[2]}

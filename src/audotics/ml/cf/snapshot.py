"""The interaction snapshot: one training log frozen as Parquet, named by its content hash.

A snapshot is a directory ``<root>/<snapshot id>/`` holding

* ``events.parquet``: one row per event, ``user`` (int32), ``item`` (int32),
  ``count`` (float32), ``timestamp`` (float64 epoch seconds, NaN = unknown) and
  ``event`` (int8 code into :data:`audotics.ml.datasets.records.EVENTS`): the
  columns of :class:`~audotics.ml.datasets.interactions.Interactions`, so both
  engines read the same file (Spark with ``spark.read.parquet``);
* ``users.parquet`` / ``items.parquet``: ``index`` -> ``id`` (user ids, catalog
  track ids), kept apart so the event file stays integers only;
* ``snapshot.json``: id, format, counts and the event vocabulary.

The id is ``sha256`` over the content (id lists and the column bytes, in a fixed
encoding), not over the Parquet bytes, which depend on the writer's version: the
same log always gets the same id, so writing it again is a no-op and a model's
metadata names exactly the data it was trained on. A snapshot is written into a
temporary directory and renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audotics.ml.datasets.interactions import Interactions
from audotics.ml.datasets.records import EVENTS

SNAPSHOT_FORMAT = 1
EVENTS_FILE = "events.parquet"
USERS_FILE = "users.parquet"
ITEMS_FILE = "items.parquet"
META_FILE = "snapshot.json"
_COLUMNS = (("user", np.int32), ("item", np.int32), ("count", np.float32))
_ID_LENGTH = 24  # hex digits of the sha256 kept in the id (96 bits)


@dataclass(frozen=True, eq=False)
class Snapshot:
    id: str
    path: Path
    interactions: Interactions

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def counts(self) -> dict[str, int]:
        log = self.interactions
        return {"users": log.n_users, "items": log.n_items, "events": len(log)}

    def describe(self) -> dict[str, Any]:
        """What a model's metadata records about its training data."""
        return {"id": self.id, **self.counts}


def _canonical_columns(log: Interactions) -> dict[str, np.ndarray]:
    timestamp = np.asarray(log.timestamp, dtype=np.float64).copy()
    timestamp[np.isnan(timestamp)] = np.nan  # one NaN bit pattern, whatever produced it
    return {
        "user": np.ascontiguousarray(log.user, dtype=np.int32),
        "item": np.ascontiguousarray(log.item, dtype=np.int32),
        "count": np.ascontiguousarray(log.count, dtype=np.float32),
        "timestamp": timestamp,
        "event": np.ascontiguousarray(log.event, dtype=np.int8),
    }


def snapshot_id(log: Interactions) -> str:
    """The content hash of a log (order of events and of the id lists included)."""
    digest = hashlib.sha256(f"audotics-snapshot-{SNAPSHOT_FORMAT}\n".encode())
    digest.update(json.dumps([list(log.user_ids), list(log.item_ids), list(EVENTS)]).encode())
    for name, column in _canonical_columns(log).items():
        digest.update(f"\n{name}:{column.dtype.str}:{column.size}\n".encode())
        digest.update(column.astype(column.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest.hexdigest()[:_ID_LENGTH]


def write_snapshot(log: Interactions, root: Path) -> Snapshot:
    """Write ``log`` under ``root/<id>/`` (nothing to do when that snapshot exists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ident = snapshot_id(log)
    root = Path(root)
    final = root / ident
    if (final / META_FILE).is_file():
        return Snapshot(ident, final, log)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{ident}-", dir=root))
    try:
        pq.write_table(pa.table(_canonical_columns(log)), staging / EVENTS_FILE)
        for name, ids in ((USERS_FILE, log.user_ids), (ITEMS_FILE, log.item_ids)):
            table = pa.table(
                {"index": np.arange(len(ids), dtype=np.int32), "id": pa.array(ids, pa.string())}
            )
            pq.write_table(table, staging / name)
        meta = {
            "id": ident,
            "format": SNAPSHOT_FORMAT,
            "events_vocabulary": list(EVENTS),
            "users": log.n_users,
            "items": log.n_items,
            "events": len(log),
            "written_at_ns": time.time_ns(),
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        try:
            os.replace(staging, final)
        except OSError:  # a concurrent writer renamed the same content into place first
            if not (final / META_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Snapshot(ident, final, log)


def read_snapshot(path: Path, *, verify: bool = True) -> Snapshot:
    """Read a snapshot directory; ``verify`` recomputes the hash (ValueError on mismatch)."""
    import pyarrow.parquet as pq

    path = Path(path)
    meta = json.loads((path / META_FILE).read_text())
    if meta.get("format") != SNAPSHOT_FORMAT or meta.get("events_vocabulary") != list(EVENTS):
        raise ValueError(f"{path} is not a snapshot this version can read")
    events = pq.read_table(path / EVENTS_FILE)
    users = pq.read_table(path / USERS_FILE).column("id").to_pylist()
    items = pq.read_table(path / ITEMS_FILE).column("id").to_pylist()
    column = {name: events.column(name).to_numpy() for name in events.column_names}
    log = Interactions(
        user_ids=tuple(users),
        item_ids=tuple(items),
        user=column["user"].astype(np.int32, copy=False),
        item=column["item"].astype(np.int32, copy=False),
        count=column["count"].astype(np.float32, copy=False),
        timestamp=column["timestamp"].astype(np.float64, copy=False),
        event=column["event"].astype(np.int8, copy=False),
    )
    if verify and snapshot_id(log) != meta["id"]:
        raise ValueError(f"snapshot {path} does not match its id {meta['id']}")
    return Snapshot(str(meta["id"]), path, log)


def _written_at(path: Path) -> int:
    try:
        return int(json.loads((path / META_FILE).read_text())["written_at_ns"])
    except (OSError, ValueError, KeyError):
        return (path / META_FILE).stat().st_mtime_ns


def prune_snapshots(root: Path, keep: int, *, protect: tuple[str, ...] = ()) -> list[str]:
    """Delete all but the ``keep`` most recently written snapshots (and ``protect``)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and (p / META_FILE).is_file()]
    found.sort(key=_written_at, reverse=True)
    removed = []
    for old in found[max(keep, 0) :]:
        if old.name not in protect:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old.name)
    return removed

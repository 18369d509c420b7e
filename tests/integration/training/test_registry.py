"""The model registry and the serving holder, on the local directory and on real S3.

Covers publication order (a version without metadata or pointer is invisible),
artifact checks, retention, and a hot swap under concurrent readers: readers in
the event loop and in threads keep reading while new versions are published and
swapped in, and every read sees one whole model (its factors, ids and metadata all
of the same version), never none and never a mix.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from audotics.infra.objects.base import ObjectStore
from audotics.ml.cf.model import FactorModel
from audotics.ml.cf.registry import (
    CorruptModel,
    ModelHolder,
    ModelNotFound,
    ModelRegistry,
    ServedModel,
)

SNAPSHOT = {"id": "abc123", "users": 30, "items": 40, "events": 500}


def make_model(tag: int, n_items: int = 40) -> FactorModel:
    """A model whose every factor equals ``tag``: a torn read would show mixed values."""
    return FactorModel(
        user_factors=np.full((30, 8), tag, dtype=np.float32),
        item_factors=np.full((n_items, 8), tag, dtype=np.float32),
        item_ids=tuple(f"item-{tag}-{i}" for i in range(n_items)),
        user_ids=tuple(f"user-{i}" for i in range(30)),
        params={"factors": 8, "tag": tag, "alpha": 2.0},
        metrics={"ndcg@10": 0.1 * tag},
    )


async def publish(registry: ModelRegistry, tag: int, **options: object) -> str:
    meta = await registry.publish(
        make_model(tag), engine="implicit", snapshot=SNAPSHOT, train_seconds=0.5, **options
    )  # type: ignore[arg-type]
    return meta.version


async def test_publish_list_get_load(object_store: ObjectStore) -> None:
    registry = ModelRegistry(object_store)
    assert await registry.latest() is None and await registry.versions() == []
    with pytest.raises(ModelNotFound):
        await registry.load()
    first = await publish(registry, 1)
    second = await publish(registry, 2)
    assert await registry.versions() == [first, second]  # names sort by age
    assert [meta.version for meta in await registry.list()] == [first, second]
    latest = await registry.latest()
    assert latest is not None and latest.version == second
    assert latest.engine == "implicit" and latest.kind == "als"
    assert latest.snapshot == SNAPSHOT and latest.params["tag"] == 2
    assert latest.metrics["ndcg@10"] == pytest.approx(0.2) and latest.train_seconds == 0.5
    model, meta = await registry.load()
    assert meta.version == second and float(model.item_factors[0, 0]) == 2.0
    assert model.item_ids[0] == "item-2-0"
    old, old_meta = await registry.load(first)
    assert old_meta.version == first and float(old.user_factors[3, 3]) == 1.0
    # Rollback: point serving at an older version.
    await registry.set_current(first)
    assert await registry.current_version() == first
    with pytest.raises(ModelNotFound):
        await registry.set_current("20000101T000000000000Z-000000")


async def test_unfinished_versions_are_invisible_and_corruption_is_caught(
    object_store: ObjectStore,
) -> None:
    registry = ModelRegistry(object_store)
    served = await publish(registry, 1)
    # A publisher that died after the artifact: no metadata, no pointer -> not a version.
    await object_store.put("models/cf/29990101T000000000000Z-dead00/model.npz", b"partial")
    assert await registry.versions() == [served]
    assert await registry.current_version() == served
    # Unpublished (make_current=False) versions are listed but not served.
    staged = await publish(registry, 2, make_current=False)
    assert await registry.current_version() == served and staged in await registry.versions()
    # An artifact that does not match its metadata is refused.
    await object_store.put(f"models/cf/{staged}/model.npz", make_model(3).to_bytes())
    with pytest.raises(CorruptModel):
        await registry.load(staged)


async def test_retention_keeps_the_newest_and_the_current(object_store: ObjectStore) -> None:
    registry = ModelRegistry(object_store)
    versions = [await publish(registry, tag) for tag in range(1, 5)]
    await registry.set_current(versions[0])  # rolled back to the oldest
    removed = await registry.retain(2)
    assert removed == versions[1:2]
    assert await registry.versions() == [versions[0], *versions[2:]]
    assert not await object_store.exists(f"models/cf/{versions[1]}/model.npz")
    newest = await publish(registry, 5, keep=2)
    assert await registry.versions() == [versions[3], newest]
    with pytest.raises(ValueError):
        await registry.retain(0)


def check_whole(served: ServedModel) -> int:
    """The tag of a read, after checking every part belongs to the same version."""
    tag = int(served.meta.params["tag"])
    model = served.model
    assert model.params["tag"] == tag
    assert model.item_ids[0] == f"item-{tag}-0" and len(model.item_ids) == model.n_items
    assert np.all(model.item_factors == tag) and np.all(model.user_factors == tag)
    assert served.meta.metrics["ndcg@10"] == pytest.approx(0.1 * tag)
    return tag


async def test_hot_swap_under_concurrent_readers(object_store: ObjectStore) -> None:
    registry = ModelRegistry(object_store)
    await publish(registry, 1)
    holder = ModelHolder(registry, interval_s=None)
    await holder.start()
    assert holder.current is not None and check_whole(holder.current) == 1
    stop = threading.Event()
    seen_by_threads: list[set[int]] = []
    errors: list[BaseException] = []
    reads_during_swaps = [0]
    swapping = asyncio.Event()

    def thread_reader() -> None:
        seen: set[int] = set()
        try:
            while not stop.is_set():
                served = holder.current
                assert served is not None
                seen.add(check_whole(served))
                time.sleep(0.002)  # read often, but leave the GIL to the swapping loop
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        seen_by_threads.append(seen)

    async def loop_reader() -> set[int]:
        seen: set[int] = set()
        while not stop.is_set():
            served = holder.current
            assert served is not None
            seen.add(check_whole(served))
            reads_during_swaps[0] += swapping.is_set()
            await asyncio.sleep(0.001)
        return seen

    threads = [threading.Thread(target=thread_reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    readers = [asyncio.create_task(loop_reader()) for _ in range(3)]
    try:
        for tag in (2, 3, 4):
            await publish(registry, tag)
            swapping.set()
            assert await holder.refresh() is True
            swapping.clear()
            assert holder.current is not None and check_whole(holder.current) == tag
            await asyncio.sleep(0.05)  # let readers see this version
        assert await holder.refresh() is False  # nothing newer
    finally:
        stop.set()
        loop_seen = await asyncio.gather(*readers)
        for thread in threads:
            thread.join(timeout=10)
    assert errors == []
    assert reads_during_swaps[0] > 0  # the loop kept answering while a model was loading
    assert holder.swaps == 4
    for seen in [*loop_seen, *seen_by_threads]:
        assert seen <= {1, 2, 3, 4} and 4 in seen


async def test_holder_polls_and_survives_a_bad_version(object_store: ObjectStore) -> None:
    registry = ModelRegistry(object_store)
    holder = ModelHolder(registry, interval_s=0.05)
    await holder.start()  # nothing published yet: serves nothing, keeps checking
    assert holder.current is None
    try:
        first = await publish(registry, 1)
        for _ in range(200):
            if holder.current is not None:
                break
            await asyncio.sleep(0.02)
        assert holder.current is not None and holder.current.version == first
        # A newer version whose artifact is damaged: the holder keeps serving the old one.
        # Polling pauses meanwhile, or a poll could load version 2 before it is damaged.
        await holder.stop()
        bad = await publish(registry, 2)
        await object_store.put(f"models/cf/{bad}/model.npz", b"not a model")
        with pytest.raises(CorruptModel):
            await holder.refresh()
        assert holder.current.version == first and holder.failures >= 1
        await holder.start()  # the damaged latest version fails again, logged, not raised
        assert holder.current.version == first
        # Fixed by publishing again: picked up by the poll.
        good = await publish(registry, 3)
        for _ in range(200):
            if holder.current.version == good:
                break
            await asyncio.sleep(0.02)
        assert holder.current.version == good and check_whole(holder.current) == 3
    finally:
        await holder.stop()

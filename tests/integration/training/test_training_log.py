"""analytics.training_log: every track event as the CF log, canonical, on both databases."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from audotics.config import Settings
from audotics.ml.cf.confidence import build_confidence
from audotics.ml.cf.snapshot import read_snapshot, snapshot_id, write_snapshot
from audotics.ml.datasets.interactions import EVENT_CODE
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind, ListenEvent, NewListen, NewPlayCount
from tests.integration.analytics.support import session_of

BASE = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def _listen(user: uuid.UUID, track: uuid.UUID, event: str, minutes: int) -> NewListen:
    moment = BASE + timedelta(minutes=minutes)
    return NewListen(
        user_id=user,
        track_id=track,
        artist_id=uuid.uuid4(),
        event=ListenEvent(event),
        occurred_at=moment,
        play_duration_s=None,
        source="test",
        dedup_key=analytics.dedup_key(track, event, moment),
    )


async def test_training_log_holds_listens_and_track_play_counts(
    settings: Settings, tmp_path: Path
) -> None:
    alice, bob = sorted([uuid.uuid4(), uuid.uuid4()], key=str)
    x, y, z = sorted([uuid.uuid4() for _ in range(3)], key=str)
    async with session_of(settings) as session:
        assert len(await analytics.training_log(session)) == 0
        await analytics.store_listens(
            session,
            [
                _listen(bob, y, "skip", 5),
                _listen(alice, x, "complete", 2),
                _listen(alice, x, "like", 3),
                _listen(alice, y, "play", 1),
            ],
        )
        await analytics.set_play_counts(
            session,
            [
                NewPlayCount(bob, ItemKind.track, z, 7, "import:csv"),
                NewPlayCount(bob, ItemKind.artist, uuid.uuid4(), 99, "import:csv"),  # not a track
            ],
        )
        await session.commit()
        log = await analytics.training_log(session, batch=2)  # several batches
    assert log.user_ids == (str(alice), str(bob))
    assert log.item_ids == (str(x), str(y), str(z))
    rows = list(
        zip(
            log.user.tolist(),
            log.item.tolist(),
            log.count.tolist(),
            log.event.tolist(),
            [None if math.isnan(t) else t - BASE.timestamp() for t in log.timestamp.tolist()],
            strict=True,
        )
    )
    assert rows == [
        (0, 1, 1.0, EVENT_CODE["play"], 60.0),  # alice, time order
        (0, 0, 1.0, EVENT_CODE["complete"], 120.0),
        (0, 0, 1.0, EVENT_CODE["like"], 180.0),
        (1, 2, 7.0, EVENT_CODE["play"], None),  # imported count: no time, first
        (1, 1, 1.0, EVENT_CODE["skip"], 300.0),
    ]
    confidence = build_confidence(log).toarray()
    assert confidence[0, 0] > confidence[0, 1] > 0 and confidence[1, 1] == 0
    # The snapshot of this log: same content, same id, readable back unchanged.
    snapshot = write_snapshot(log, tmp_path)
    assert snapshot.id == snapshot_id(log) and snapshot.counts == {
        "users": 2,
        "items": 3,
        "events": 5,
    }
    back = read_snapshot(snapshot.path)
    assert back.interactions.item_ids == log.item_ids
    assert np.array_equal(back.interactions.timestamp, log.timestamp, equal_nan=True)

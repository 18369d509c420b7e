"""Train/test splits on small hand-made logs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from audotics.ml.datasets import EVENT_CODE, ListenRecord, from_records, generate_synthetic
from audotics.ml.evaluate import global_temporal, leave_last_out, random_holdout


def _at(hour: int) -> datetime:
    return datetime(2024, 1, 1, hour, tzinfo=UTC)


def _pairs(log) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    events = ("play", "complete", "like", "skip", "unlike")
    return [
        (log.user_ids[u], log.item_ids[i].split("\t")[1], events[e])
        for u, i, e in zip(log.user.tolist(), log.item.tolist(), log.event.tolist(), strict=True)
    ]


LOG = from_records(
    [
        ListenRecord("a", "x", "X", _at(1)),
        ListenRecord("a", "x", "Y", _at(2)),
        ListenRecord("a", "x", "X", _at(3)),
        ListenRecord("a", "x", "Y", _at(5)),  # a re-listen after the cut: dropped
        ListenRecord("a", "x", "Z", _at(6)),
        ListenRecord("a", "x", "Z", _at(4)),  # Z discovered at 4 (listed out of order)
        ListenRecord("b", "x", "X", _at(1), event="skip"),
        ListenRecord("b", "x", "X", _at(2)),
        ListenRecord("b", "x", "Y", _at(3)),
        ListenRecord("c", "x", "X", _at(1)),  # a single item: stays in train
        ListenRecord("d", "x", "P", _at(7)),
        ListenRecord("d", "x", "Q", _at(7)),  # same time: later in the log counts as later
    ]
)


def test_leave_last_out_holds_out_the_last_discovered_item() -> None:
    split = leave_last_out(LOG, n=1)
    assert sorted(_pairs(split.test)) == [
        ("a", "z", "play"),
        ("a", "z", "play"),
        ("b", "y", "play"),
        ("d", "q", "play"),
    ]
    assert sorted(_pairs(split.train)) == [
        ("a", "x", "play"),
        ("a", "x", "play"),
        ("a", "y", "play"),
        ("b", "x", "play"),
        ("b", "x", "skip"),
        ("c", "x", "play"),
        ("d", "p", "play"),
    ]
    # Every training event of a user precedes their held-out events.
    for user in range(LOG.n_users):
        train_t = split.train.timestamp[split.train.user == user]
        test_t = split.test.timestamp[split.test.user == user]
        if train_t.size and test_t.size:
            assert train_t.max() <= test_t.min()


def test_leave_last_out_validation_resplits_the_training_part() -> None:
    inner = leave_last_out(LOG, n=1).validation()
    assert sorted(_pairs(inner.test)) == [("a", "y", "play")]
    with pytest.raises(ValueError):
        leave_last_out(LOG, n=0)


def test_leave_n_out_on_synthetic_data() -> None:
    log = generate_synthetic(50, 80, seed=3).interactions
    split = leave_last_out(log, n=2)
    test_pairs = {
        (u, i) for u, i in zip(split.test.user.tolist(), split.test.item.tolist(), strict=True)
    }
    per_user = np.bincount([u for u, _ in test_pairs], minlength=log.n_users)
    assert set(per_user.tolist()) <= {0, 2} and per_user.sum() > 0
    train = split.train
    for u, i in test_pairs:  # a held-out item may only have been skipped before the cut
        before = train.event[(train.user == u) & (train.item == i)]
        assert set(before.tolist()) <= {EVENT_CODE["skip"]}


def test_global_temporal_cuts_at_one_time_and_drops_cold_users_and_items() -> None:
    records = [ListenRecord(f"u{h % 3}", "x", f"T{h % 4}", _at(h)) for h in range(10)]
    records.append(ListenRecord("late", "x", "T0", _at(12)))  # a user only seen after the cut
    records.append(ListenRecord("u0", "x", "new", _at(13)))  # an item only seen after the cut
    log = from_records(records)
    split = global_temporal(log, test_fraction=0.25)  # 12 events -> 3 after the cut
    assert np.nanmax(split.train.timestamp) < np.nanmin(split.test.timestamp)
    assert len(split.train) == 9
    assert _pairs(split.test) == [("u0", "t1", "play")]  # hour 9; "late" and "new" are cold
    with pytest.raises(ValueError):
        global_temporal(from_records([ListenRecord("a", "b", "c", None)]), 0.5)


def test_random_holdout_takes_a_share_of_each_users_items() -> None:
    log = generate_synthetic(80, 120, seed=5).interactions
    split = random_holdout(log, fraction=0.2, seed=1)
    assert len(split.train) + len(split.test) == len(log)
    again = random_holdout(log, fraction=0.2, seed=1)
    assert np.array_equal(again.test.item, split.test.item)
    positive = np.isin(log.event, [EVENT_CODE["play"], EVENT_CODE["complete"], EVENT_CODE["like"]])
    for user in range(log.n_users):
        items = set(log.item[(log.user == user) & positive].tolist())
        held = set(split.test.item[split.test.user == user].tolist())
        kept = set(split.train.item[split.train.user == user].tolist())
        assert not held & kept
        if len(items) >= 2:
            assert len(held) == max(1, round(0.2 * len(items)))
    other = random_holdout(log, fraction=0.2, seed=2)
    assert not np.array_equal(other.test.item, split.test.item)


def _held_pairs(split) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return set(zip(split.test.user.tolist(), split.test.item.tolist(), strict=True))


def test_random_holdout_draws_independent_validation_folds_of_the_training_part() -> None:
    log = generate_synthetic(80, 120, seed=5).interactions
    split = random_holdout(log, fraction=0.2, seed=1)
    assert split.random_folds
    default = split.validation()
    # Fold 0 is the validation split as it always was: the protocol at seed + 1.
    assert _held_pairs(default) == _held_pairs(random_holdout(split.train, 0.2, seed=2))
    assert _held_pairs(split.validation(0)) == _held_pairs(default)
    folds = [split.validation(fold) for fold in range(3)]
    held = [_held_pairs(fold) for fold in folds]
    assert held[0] != held[1] and held[1] != held[2] and held[0] != held[2]
    assert _held_pairs(split.validation(2)) == held[2], "a fold is reproducible"
    train_pairs = set(zip(split.train.user.tolist(), split.train.item.tolist(), strict=True))
    for fold, pairs in zip(folds, held, strict=True):
        assert pairs <= train_pairs and not pairs & _held_pairs(split)
        assert len(fold.train) + len(fold.test) == len(split.train)
        # Same share of each user's items as fold 0: only the draw differs.
        assert np.array_equal(
            np.bincount([u for u, _ in pairs], minlength=log.n_users),
            np.bincount([u for u, _ in held[0]], minlength=log.n_users),
        )
    with pytest.raises(ValueError):
        split.validation(-1)


def test_time_ordered_protocols_have_one_validation_split_whatever_the_fold() -> None:
    split = leave_last_out(LOG, n=1)
    assert not split.random_folds
    assert sorted(_pairs(split.validation(2).test)) == sorted(_pairs(split.validation().test))

"""A served process freezes its start-up objects, so full collections skip them."""

from __future__ import annotations

import gc

from audotics.app import create_app, freeze_startup_objects


def test_freezing_takes_start_up_objects_out_of_full_collections() -> None:
    create_app()  # the app and everything it imports, as a served process has them
    try:
        frozen = freeze_startup_objects()
        assert frozen > 10_000
        # Frozen objects can still die by reference count (another thread's, in a full
        # test session) before they are counted again; none are added.
        assert 0 <= frozen - gc.get_freeze_count() < frozen // 100
        tracked = len(gc.get_objects())  # what a full collection still walks
        assert tracked < frozen / 5, (tracked, frozen)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert gc.get_freeze_count() == 0

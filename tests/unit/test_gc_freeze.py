"""A served process freezes its start-up objects, so full collections skip them."""

from __future__ import annotations

import gc

from audotics.app import create_app, freeze_startup_objects


def test_freezing_takes_start_up_objects_out_of_full_collections() -> None:
    create_app()  # the app and everything it imports, as a served process has them
    try:
        frozen = freeze_startup_objects()
        assert frozen > 10_000 and gc.get_freeze_count() == frozen
        tracked = len(gc.get_objects())  # what a full collection still walks
        assert tracked < frozen / 5, (tracked, frozen)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert gc.get_freeze_count() == 0

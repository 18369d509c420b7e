"""The demo community's planned listening: deterministic, with the tastes it claims."""

from __future__ import annotations

from collections import Counter

import pytest

from audotics.demo import demo_catalog
from audotics.ml.datasets.demo_listening import DEMO_GENRE_INDEX, plan_follows, plan_listening

CATALOG = demo_catalog()
GENRES = [t.genres[-1] for t in CATALOG]
DURATIONS = [t.clip.duration_s for t in CATALOG]


def test_plan_is_deterministic_and_keys_are_unique() -> None:
    first = plan_listening(GENRES, DURATIONS, 30)
    assert first == plan_listening(GENRES, DURATIONS, 30)
    assert first != plan_listening(GENRES, DURATIONS, 30, seed=12)
    keys = [listen.key for listen in first.listens]
    assert len(keys) == len(set(keys))
    assert first.listeners == 30
    assert all(0 <= listen.track < len(CATALOG) for listen in first.listens)
    assert all(listen.seconds_before_origin > 0 for listen in first.listens)


def test_listeners_play_their_tastes_and_skip_the_rest() -> None:
    plan = plan_listening(GENRES, DURATIONS, 40)
    every_genre = set(GENRES)
    assert {taste[0] for taste in plan.tastes[1:]} == every_genre, "every genre has fans"
    on_taste = Counter[str]()
    for listen in plan.listens:
        loved = GENRES[listen.track] in plan.tastes[listen.listener]
        on_taste[f"{listen.event}:{loved}"] += 1
    plays = on_taste["complete:True"] + on_taste["complete:False"]
    assert on_taste["complete:True"] / plays > 0.9
    skips = on_taste["skip:True"] + on_taste["skip:False"]
    assert skips > 0 and on_taste["skip:False"] / skips > 0.95
    assert on_taste["like:False"] == 0 and on_taste["like:True"] > 0


def test_demo_account_has_one_clear_taste_and_room_to_discover() -> None:
    plan = plan_listening(GENRES, DURATIONS, 10)
    loved = sorted(set(GENRES))[DEMO_GENRE_INDEX]
    assert plan.tastes[0] == (loved,)
    mine = [listen for listen in plan.listens if listen.listener == 0]
    completed = {listen.track for listen in mine if listen.event == "complete"}
    assert completed and all(GENRES[track] == loved for track in completed)
    assert len(completed) < GENRES.count(loved) / 2, "most of the genre is left to recommend"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="one genre and one duration"):
        plan_listening(GENRES, DURATIONS[:-1], 3)
    assert plan_listening([], [], 3).listens == []


def test_people_follow_a_few_others_of_their_taste() -> None:
    plan = plan_listening(GENRES, DURATIONS, 30)
    pairs = plan_follows(plan)
    assert pairs == plan_follows(plan), "deterministic"
    assert len(pairs) == len(set(pairs)) and all(a != b for a, b in pairs)
    per_listener = Counter(a for a, _ in pairs)
    assert max(per_listener.values()) <= 3 and per_listener[0] == 3
    for follower, followed in pairs:
        assert plan.tastes[follower][0] in plan.tastes[followed]

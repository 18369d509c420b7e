"""The generate request's rules: what a radio and a daily mix need, and mood ranges."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from audotics.services.catalog.service import SERVING_FEATURES
from audotics.services.recommendations.generate_schemas import GenerateRequest, Mood


def test_every_mood_feature_is_one_the_catalog_serves() -> None:
    assert set(Mood.model_fields) <= set(SERVING_FEATURES)


def test_ranges_are_inclusive_and_unknown_never_matches() -> None:
    mood = Mood.model_validate({"energy": {"min": 0.2, "max": 0.5}, "tempo_bpm": {"max": 120}})
    assert mood.admits({"energy": 0.2, "tempo_bpm": 120.0})
    assert not mood.admits({"energy": 0.51, "tempo_bpm": 100.0})
    assert not mood.admits({"energy": 0.3, "tempo_bpm": None})


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "radio"},
        {"kind": "radio", "mood": {}},
        {"kind": "radio", "mood": {"valence": {"min": 0.9, "max": 0.1}}},
        {"kind": "radio", "mood": {"valence": {"min": float("nan")}}},
        {"kind": "radio", "mood": {"tempo_bpm": {"min": float("inf")}}},
        {"kind": "daily_mix", "seed_artist_id": str(uuid.uuid4())},
        {"kind": "daily_mix", "length": 101},
    ],
)
def test_invalid_requests_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GenerateRequest.model_validate(body)


def test_the_recipe_leaves_out_how_it_is_saved() -> None:
    seed = uuid.uuid4()
    one = GenerateRequest.model_validate(
        {"kind": "radio", "seed_track_id": str(seed), "save": True, "name": "Mine"}
    )
    other = GenerateRequest.model_validate({"kind": "radio", "seed_track_id": str(seed)})
    assert (
        one.recipe()
        == other.recipe()
        == {
            "kind": "radio",
            "seed_track_id": str(seed),
            "length": 25,
        }
    )

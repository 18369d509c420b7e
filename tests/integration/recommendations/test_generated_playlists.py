"""POST /playlists/generate on both databases: radio around a track, an artist or a mood,
the daily mix, saving as a playlist, ownership and bad input."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from typing import Any

from tests.integration.recommendations.conftest import PROBLEM, Catalogue
from tests.support.factories import SignedIn


async def _generate(world: Catalogue, user: SignedIn, status: int = 200, **body: Any) -> Any:
    response = await world.generate(user, **body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == PROBLEM
    return response.json()


def _ids(body: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(item["track"]["id"]) for item in body["items"]]


def _per_artist(body: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in body["items"]:
        name = item["track"]["artist"]["name"]
        counts[name] = counts.get(name, 0) + 1
    return counts


async def test_a_radio_around_a_track_is_near_it_and_never_it(catalogue: Catalogue) -> None:
    await catalogue.train()
    seed = catalogue.tracks["A0"]
    body = await _generate(catalogue, catalogue.alice, kind="radio", seed_track_id=str(seed))
    ids = _ids(body)
    assert seed not in ids and catalogue.bobs_private not in ids
    assert len(ids) == len(set(ids)) >= 8
    assert max(_per_artist(body).values()) <= math.ceil(25 / 5)
    first = {catalogue.name_of(t) for t in ids[:5]}
    assert first & {"A1", "A2", "A3"} and first & {"B0", "C0", "new"}, first  # both signals
    kinds = [item["explanation"]["kind"] for item in body["items"]]
    seeded = [kind in ("sound", "cf", "knn") for kind in kinds]
    # The seed's neighbours first, then (Alice has no history) popular tracks further afield.
    assert seeded == sorted(seeded, reverse=True) and sum(seeded) >= 5, kinds
    for item in body["items"]:
        explanation = item["explanation"]
        assert explanation["text"]
        if explanation["kind"] in ("sound", "cf", "knn"):
            assert explanation["seed_track_id"] == str(seed)
            assert "A0 song by Aurora" in explanation["text"]
        else:
            assert explanation["kind"] == "popularity", explanation
    assert body["kind"] == "radio" and body["playlist"] is None
    assert body["model_version"] is not None


async def test_mood_ranges_are_hard_filters(catalogue: Catalogue) -> None:
    mood = {"energy": {"min": 0.3}, "tempo_bpm": {"max": 130}}
    body = await _generate(
        catalogue,
        catalogue.alice,
        kind="radio",
        seed_track_id=str(catalogue.tracks["A0"]),
        mood=mood,
    )
    assert body["items"]
    for track_id in _ids(body):
        features = catalogue.features[track_id]
        assert features.energy >= 0.3 and features.tempo_bpm is not None
        assert features.tempo_bpm <= 130
    # Every track that fits is reachable: takes 1 and 2 of each artist.
    assert {catalogue.name_of(t) for t in _ids(body)} == {
        f"{a}{take}" for a in "ABC" for take in (1, 2)
    }
    # A mood alone: the whole public catalogue, filtered.
    only_mood = await _generate(
        catalogue, catalogue.alice, kind="radio", mood={"valence": {"min": 0.45, "max": 0.9}}
    )
    names = {catalogue.name_of(t) for t in _ids(only_mood)}
    assert names and all(name[0] in "BC" or name == "new" for name in names), names
    assert all(0.45 <= catalogue.features[t].valence <= 0.9 for t in _ids(only_mood))
    assert "bobs_private" not in names and "silent" not in names


async def test_an_artist_radio_starts_from_their_songs(catalogue: Catalogue) -> None:
    artist = catalogue.artists["Basalt"]
    body = await _generate(
        catalogue, catalogue.alice, kind="radio", seed_artist_id=str(artist), length=10
    )
    counts = _per_artist(body)
    assert counts.get("Basalt") == 2, counts  # the artist cap: max(2, 10 / 5)
    assert max(counts.values()) <= 2
    by_artist = [i for i in body["items"] if i["explanation"]["kind"] == "artist"]
    assert by_artist and all(i["explanation"]["text"] == "By Basalt" for i in by_artist)
    assert len(body["items"]) >= 5


async def test_turned_down_tracks_stay_out_and_history_personalises(catalogue: Catalogue) -> None:
    seed = str(catalogue.tracks["A0"])
    await catalogue.listen(catalogue.alice, "B0", event="skip")
    body = await _generate(catalogue, catalogue.alice, kind="radio", seed_track_id=seed)
    assert catalogue.tracks["B0"] not in _ids(body)
    bobs = await _generate(catalogue, catalogue.bob, kind="radio", seed_track_id=seed)
    assert catalogue.tracks["B0"] in _ids(bobs)


async def test_the_daily_mix_is_stable_all_day_and_moves_with_listens(
    catalogue: Catalogue,
) -> None:
    await catalogue.listen(catalogue.alice, "A0", "A1", "C3")
    await catalogue.train()
    first = await _generate(catalogue, catalogue.alice, kind="daily_mix", length=6)
    again = await _generate(catalogue, catalogue.alice, kind="daily_mix", length=6)
    assert first["generated_for"] == again["generated_for"]
    day = date.fromisoformat(first["generated_for"])
    assert abs((datetime.now(UTC).date() - day).days) <= 1  # the UTC day (midnight may pass)
    assert first["items"] == again["items"]
    assert len(first["items"]) == 6
    familiar = {
        catalogue.name_of(uuid.UUID(i["track"]["id"])) for i in first["items"] if i["familiar"]
    }
    assert familiar and familiar <= {"A0", "A1", "C3"}, first
    assert all(i["explanation"]["kind"] == "favourite" for i in first["items"] if i["familiar"])
    discoveries = [i for i in first["items"] if not i["familiar"]]
    assert discoveries and all(i["explanation"]["kind"] != "favourite" for i in discoveries)
    # She plays one of the discoveries: it cannot be one any more, the mix moves.
    played = catalogue.name_of(uuid.UUID(discoveries[0]["track"]["id"]))
    await catalogue.listen(catalogue.alice, played)
    after = await _generate(catalogue, catalogue.alice, kind="daily_mix", length=6)

    def shape(body: dict[str, Any]) -> list[tuple[str, bool]]:
        return [(i["track"]["id"], i["familiar"]) for i in body["items"]]

    assert shape(after) != shape(first)
    assert (discoveries[0]["track"]["id"], False) not in shape(after)
    # Another user gets a mix of their own.
    bobs = await _generate(catalogue, catalogue.bob, kind="daily_mix", length=6)
    assert not any(i["familiar"] for i in bobs["items"])  # Bob has no history


async def test_saving_makes_a_playlist_the_user_owns(catalogue: Catalogue) -> None:
    seed = str(catalogue.tracks["C1"])
    response = await catalogue.generate(
        catalogue.alice, kind="radio", seed_track_id=seed, length=5, save=True
    )
    assert response.status_code == 201, response.text
    body = response.json()
    playlist = body["playlist"]
    assert playlist["owner"]["id"] == str(catalogue.alice.id) and playlist["kind"] == "generated"
    assert playlist["name"] == "C1 song radio" and playlist["is_public"] is False
    assert playlist["item_count"] == len(body["items"]) == 5
    assert playlist["generator"]["seed_track_id"] == seed
    assert response.headers["location"] == f"/api/v1/playlists/{playlist['id']}"
    url = f"/api/v1/playlists/{playlist['id']}"
    mine = await catalogue.client.get(url, headers=catalogue.alice.headers)
    assert mine.status_code == 200, mine.text
    entries = mine.json()["items"]["items"]
    assert [i["track_id"] for i in entries] == [str(t) for t in _ids(body)]
    hidden = await catalogue.client.get(url, headers=catalogue.bob.headers)
    assert hidden.status_code == 404
    shared = await _generate(
        catalogue,
        catalogue.alice,
        201,
        kind="daily_mix",
        length=3,
        save=True,
        name="Morning",
        is_public=True,
    )
    assert shared["playlist"]["name"] == "Morning"
    seen = await catalogue.client.get(
        f"/api/v1/playlists/{shared['playlist']['id']}", headers=catalogue.bob.headers
    )
    assert seen.status_code == 200


async def test_a_private_track_seeds_only_its_owners_radio(catalogue: Catalogue) -> None:
    private = str(catalogue.bobs_private)
    await _generate(catalogue, catalogue.alice, 404, kind="radio", seed_track_id=private)
    body = await _generate(catalogue, catalogue.bob, kind="radio", seed_track_id=private)
    assert catalogue.bobs_private not in _ids(body) and body["items"]


async def test_bad_input_is_a_problem_never_a_crash(catalogue: Catalogue) -> None:
    alice = catalogue.alice
    seed = str(catalogue.tracks["A0"])
    for body in (
        {"kind": "radio"},
        {"kind": "radio", "mood": {}},
        {"kind": "radio", "mood": {"energy": {}}},
        {"kind": "radio", "mood": {"energy": {"min": 0.8, "max": 0.2}}},
        {"kind": "radio", "mood": {"energy": {"min": 2}}},
        {"kind": "radio", "mood": {"tempo_bpm": {"max": 1e308}}},
        {"kind": "radio", "mood": {"pitch": {"min": 1}}},
        {"kind": "radio", "seed_track_id": seed, "length": 0},
        {"kind": "radio", "seed_track_id": seed, "length": 101},
        {"kind": "radio", "seed_track_id": "not-a-uuid"},
        {"kind": "daily_mix", "seed_track_id": seed},
        {"kind": "weekly", "seed_track_id": seed},
        {"kind": "radio", "seed_track_id": seed, "save": True, "name": ""},
        {"kind": "radio", "seed_track_id": seed, "colour": "blue"},
    ):
        await _generate(catalogue, alice, 422, **body)
    await _generate(catalogue, alice, 404, kind="radio", seed_track_id=str(uuid.uuid4()))
    await _generate(catalogue, alice, 404, kind="radio", seed_artist_id=str(uuid.uuid4()))
    silent = str(catalogue.tracks["silent"])
    conflict = await _generate(catalogue, alice, 409, kind="radio", seed_track_id=silent)
    assert conflict["title"] == "Nothing to base it on"
    nothing = {"kind": "radio", "mood": {"tempo_bpm": {"min": 399}}}
    assert (await _generate(catalogue, alice, **nothing))["items"] == []
    await _generate(catalogue, alice, 409, **nothing, save=True)
    anonymous = await catalogue.client.post(
        "/api/v1/playlists/generate", json={"kind": "daily_mix"}
    )
    assert anonymous.status_code == 401

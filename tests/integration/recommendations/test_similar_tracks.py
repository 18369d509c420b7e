"""GET /tracks/{id}/similar?by=sound|cf|hybrid on both databases: what each mode finds,
visibility, the cold start of a new track, caching that follows listens, problems."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.recommendations.conftest import PROBLEM, Catalogue
from tests.support.factories import SignedIn


async def _similar(world: Catalogue, user: SignedIn, name: str, **params: Any) -> dict[str, Any]:
    response = await world.similar(user, world.tracks[name], **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["seed_id"] == str(world.tracks[name])
    assert body["by"] == params.get("by", "sound")
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    return body


def _names(world: Catalogue, body: dict[str, Any]) -> list[str]:
    return [world.name_of(uuid.UUID(item["track"]["id"])) for item in body["items"]]


async def test_sound_and_cf_disagree_as_the_listens_say(catalogue: Catalogue) -> None:
    version = await catalogue.train()
    sound = _names(catalogue, await _similar(catalogue, catalogue.alice, "A0", by="sound"))
    cf_body = await _similar(catalogue, catalogue.alice, "A0", by="cf", limit=3)
    cf = _names(catalogue, cf_body)
    assert set(sound[:3]) == {"B0", "C0", "new"}, sound  # take 0, by sound
    assert set(cf) == {"A1", "A2", "A3"}, cf  # Aurora's other songs, by listeners
    assert cf_body["model_version"] == version
    for item in cf_body["items"]:
        assert item["explanation"]["kind"] == "cf"
        assert item["explanation"]["text"] == "Listeners who like A0 song by Aurora like this too"
    hybrid = await _similar(catalogue, catalogue.alice, "A0", by="hybrid", limit=8)
    names = _names(catalogue, hybrid)
    assert "A0" not in names and "bobs_private" not in names
    # Both signals are in the blend: Aurora's songs and the other takes 0.
    assert {"A1", "A2", "A3"} <= set(names) and {"B0", "C0"} & set(names[:6]), names
    kinds = {item["explanation"]["kind"] for item in hybrid["items"]}
    assert "sound" in kinds and kinds & {"cf", "knn"}, hybrid


async def test_cf_falls_back_to_co_listening_without_a_model(catalogue: Catalogue) -> None:
    body = await _similar(catalogue, catalogue.alice, "B1", by="cf", limit=3)
    assert body["model_version"] is None
    assert set(_names(catalogue, body)) == {"B0", "B2", "B3"}
    assert {item["explanation"]["kind"] for item in body["items"]} == {"knn"}
    text = body["items"][0]["explanation"]["text"]
    assert text == "Listeners of B1 song by Basalt also play this"


async def test_a_new_track_is_placed_by_its_sound(catalogue: Catalogue) -> None:
    await catalogue.train()
    body = await _similar(catalogue, catalogue.alice, "new", by="hybrid", limit=3)
    assert set(_names(catalogue, body)) == {"A0", "B0", "C0"}
    assert {item["explanation"]["kind"] for item in body["items"]} == {"sound"}
    assert body["items"][0]["explanation"]["text"].startswith("Similar sound to Brand New")
    # Nobody played it and the model does not know it: no CF answer.
    response = await catalogue.similar(catalogue.alice, catalogue.tracks["new"], by="cf")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Nothing to base it on"


async def test_only_visible_tracks_and_the_owners_private_one(catalogue: Catalogue) -> None:
    for by in ("sound", "hybrid"):
        mine = _names(catalogue, await _similar(catalogue, catalogue.bob, "A0", by=by, limit=5))
        theirs = _names(catalogue, await _similar(catalogue, catalogue.alice, "A0", by=by, limit=5))
        assert "bobs_private" in mine, (by, mine)
        assert "bobs_private" not in theirs, (by, theirs)
    for by in ("sound", "cf", "hybrid"):
        hidden = await catalogue.similar(catalogue.alice, catalogue.bobs_private, by=by)
        assert hidden.status_code == 404, (by, hidden.text)
        assert hidden.headers["content-type"] == PROBLEM
        unknown = await catalogue.similar(catalogue.alice, uuid.uuid4(), by=by)
        assert unknown.status_code == 404


async def test_pages_and_a_listen_that_turns_a_track_down(catalogue: Catalogue) -> None:
    first = await _similar(catalogue, catalogue.alice, "C2", by="hybrid", limit=2)
    second = await _similar(catalogue, catalogue.alice, "C2", by="hybrid", limit=2, offset=2)
    whole = await _similar(catalogue, catalogue.alice, "C2", by="hybrid", limit=4)
    assert _names(catalogue, first) + _names(catalogue, second) == _names(catalogue, whole)
    assert first["next_offset"] == 2 and first["offset"] == 0 and second["offset"] == 2
    top = _names(catalogue, first)[0]
    # Alice skips the top track: the cached answer is not reused, the track is gone.
    await catalogue.listen(catalogue.alice, top, event="skip")
    after = _names(catalogue, await _similar(catalogue, catalogue.alice, "C2", by="hybrid"))
    assert top not in after and after
    # ... for her only.
    bobs = _names(catalogue, await _similar(catalogue, catalogue.bob, "C2", by="hybrid"))
    assert top in bobs


async def test_bad_requests_are_problems(catalogue: Catalogue) -> None:
    silent = catalogue.tracks["silent"]

    async def problem(track: object, status: int, **params: Any) -> dict[str, Any]:
        response = await catalogue.client.get(
            f"/api/v1/tracks/{track}/similar", params=params, headers=catalogue.alice.headers
        )
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        body: dict[str, Any] = response.json()
        return body

    assert (await problem(silent, 409, by="hybrid"))["title"] == "Nothing to base it on"
    assert (await problem(silent, 409))["title"] == "No audio"  # by=sound stays the default
    await problem(silent, 422, by="nearest")
    await problem(catalogue.tracks["A0"], 422, offset=-1)
    await problem(catalogue.tracks["A0"], 422, offset=101)
    await problem(catalogue.tracks["A0"], 422, by="cf", limit=0)
    anonymous = await catalogue.client.get(f"/api/v1/tracks/{silent}/similar?by=cf")
    assert anonymous.status_code == 401

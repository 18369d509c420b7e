"""Following listeners through HTTP on both databases: idempotent follow and unfollow,
both directions listed, clear errors, only ever about the caller."""

from __future__ import annotations

from typing import Any

from tests.integration.analytics.conftest import API, World, world
from tests.support.factories import SignedIn

__all__ = ["world"]


async def _list(w: World, which: str, user: SignedIn) -> list[str]:
    response = await w.client.get(f"{API}/me/{which}", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["total"] == len(body["items"])
    return [item["username"] for item in body["items"]]


async def test_follow_is_idempotent_and_listed_both_ways(world: World) -> None:
    first = await world.client.put(f"{API}/me/following/bob", headers=world.alice.headers)
    assert first.status_code == 201, first.text
    assert first.json()["username"] == "bob" and first.json()["id"] == str(world.bob.id)
    again = await world.client.put(f"{API}/me/following/BOB", headers=world.alice.headers)
    assert again.status_code == 200, again.text
    assert again.json()["since"] == first.json()["since"], "following again changes nothing"
    await world.client.put(f"{API}/me/following/curator", headers=world.alice.headers)
    assert await _list(world, "following", world.alice) == ["bob", "curator"]
    assert await _list(world, "followers", world.bob) == ["alice"]
    assert await _list(world, "following", world.bob) == []

    gone = await world.client.delete(f"{API}/me/following/bob", headers=world.alice.headers)
    assert gone.status_code == 204
    again_gone = await world.client.delete(f"{API}/me/following/bob", headers=world.alice.headers)
    assert again_gone.status_code == 204
    assert await _list(world, "following", world.alice) == ["curator"]
    assert await _list(world, "followers", world.bob) == []


async def test_bad_follows_are_clear_problems(world: World) -> None:
    cases = [
        ("put", "nobody-here", 404),
        ("put", "alice", 422),  # yourself
        ("put", "bad%00name", 404),
        ("delete", "nobody-here", 404),
    ]
    for method, name, status in cases:
        response = await world.client.request(
            method, f"{API}/me/following/{name}", headers=world.alice.headers
        )
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"], response.json()
    assert await _list(world, "following", world.alice) == []


async def test_following_needs_a_signed_in_user(world: World) -> None:
    for method, path in (
        ("get", "/me/following"),
        ("get", "/me/followers"),
        ("put", "/me/following/bob"),
        ("delete", "/me/following/bob"),
    ):
        response = await world.client.request(method, f"{API}{path}")
        assert response.status_code == 401, path
    assert await _list(world, "followers", world.bob) == []

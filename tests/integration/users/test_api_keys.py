"""API keys: lifecycle, authentication, the per-user cap and what a key may not do."""

from __future__ import annotations

import httpx

from audotics.services.users.schemas import MAX_ACTIVE_API_KEYS
from tests.integration.users.support import PROBLEM, create_api_key, field_errors, key_headers
from tests.support.factories import sign_up


async def test_api_key_lifecycle(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    created = await create_api_key(client, alice, "My scrobbler")
    assert created["key"].startswith("adk_")
    assert created["name"] == "My scrobbler"
    assert created["key"].startswith(f"adk_{created['prefix']}_")
    assert created["revoked_at"] is None

    for headers in (key_headers(created["key"]), {"X-API-Key": created["key"]}):
        me = await client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"

    listing = await client.get("/api/v1/me/api-keys", headers=alice.headers)
    assert listing.status_code == 200
    page = listing.json()
    assert page["total"] == 1
    [item] = page["items"]
    assert item["id"] == created["id"]
    assert item["last_used_at"] is not None  # the requests above used it
    assert "key" not in item and "key_hash" not in item
    assert created["key"] not in listing.text

    revoke = await client.delete(f"/api/v1/me/api-keys/{created['id']}", headers=alice.headers)
    assert revoke.status_code == 204
    rejected = await client.get("/api/v1/me", headers=key_headers(created["key"]))
    assert rejected.status_code == 401
    assert rejected.headers["content-type"] == PROBLEM
    rejected = await client.get("/api/v1/me", headers={"X-API-Key": created["key"]})
    assert rejected.status_code == 401

    active = (await client.get("/api/v1/me/api-keys", headers=alice.headers)).json()
    assert active["items"] == [] and active["total"] == 0
    everything = await client.get(
        "/api/v1/me/api-keys", params={"include_revoked": "true"}, headers=alice.headers
    )
    [revoked] = everything.json()["items"]
    assert revoked["revoked_at"] is not None
    again = await client.delete(f"/api/v1/me/api-keys/{created['id']}", headers=alice.headers)
    assert again.status_code == 204  # idempotent


async def test_api_key_validation_and_unknown_ids(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    for body in ({"name": ""}, {"name": "x" * 101}, {"name": "line\nbreak"}, {}, {"name": 5}):
        response = await client.post("/api/v1/me/api-keys", json=body, headers=alice.headers)
        assert "name" in field_errors(response), body
    unknown = await client.delete(
        "/api/v1/me/api-keys/00000000-0000-4000-8000-000000000000", headers=alice.headers
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    malformed = await client.delete("/api/v1/me/api-keys/not-a-uuid", headers=alice.headers)
    assert malformed.status_code == 422
    forged = "adk_000000000000_" + "A" * 43
    assert (await client.get("/api/v1/me", headers=key_headers(forged))).status_code == 401
    anonymous = await client.get("/api/v1/me/api-keys")
    assert anonymous.status_code == 401
    listing = (await client.get("/api/v1/me/api-keys", headers=alice.headers)).json()
    assert listing["total"] == 0


async def test_active_key_cap_and_pagination(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    keys = [await create_api_key(client, alice, f"k{n}") for n in range(MAX_ACTIVE_API_KEYS)]
    over = await client.post(
        "/api/v1/me/api-keys", json={"name": "one more"}, headers=alice.headers
    )
    assert over.status_code == 409
    assert over.headers["content-type"] == PROBLEM
    page = await client.get(
        "/api/v1/me/api-keys", params={"limit": 10, "offset": 20}, headers=alice.headers
    )
    body = page.json()
    assert body["total"] == MAX_ACTIVE_API_KEYS
    assert len(body["items"]) == 5
    assert body["next_offset"] is None
    first = (await client.get("/api/v1/me/api-keys?limit=10", headers=alice.headers)).json()
    assert first["next_offset"] == 10
    assert first["items"][0]["name"] == f"k{MAX_ACTIVE_API_KEYS - 1}"  # newest first
    too_big = await client.get("/api/v1/me/api-keys?limit=1000", headers=alice.headers)
    assert "limit" in field_errors(too_big)

    revoke = await client.delete(f"/api/v1/me/api-keys/{keys[0]['id']}", headers=alice.headers)
    assert revoke.status_code == 204
    await create_api_key(client, alice, "replacement")  # room again after revoking one


async def test_api_key_cannot_manage_the_account(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    key = key_headers((await create_api_key(client, alice))["key"])
    forbidden = [
        ("POST", "/api/v1/me/api-keys", {"name": "minted by a key"}, "create API keys"),
        (
            "POST",
            "/api/v1/me/password",
            {"current_password": alice.password, "new_password": "Brand-New-Secret-77"},
            "change the password",
        ),
        ("GET", "/api/v1/me/export", None, "export"),
        ("DELETE", "/api/v1/me", {"password": alice.password}, "delete the account"),
        ("POST", "/api/v1/me/logout-all", None, "sign out"),
    ]
    for method, path, body, action in forbidden:
        response = await client.request(method, path, json=body, headers=key)
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert "API keys cannot" in response.json()["detail"]
        assert action in response.json()["detail"]
    # Nothing happened: one key, same password, account and sign-in alive.
    listing = (await client.get("/api/v1/me/api-keys", headers=alice.headers)).json()
    assert listing["total"] == 1
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200
    login = await client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    )
    assert login.status_code == 200
    # What a key may do: read and edit the profile, list keys.
    assert (await client.get("/api/v1/me/api-keys", headers=key)).status_code == 200
    edit = await client.patch("/api/v1/me", json={"bio": "set by my app"}, headers=key)
    assert edit.status_code == 200

"""Password change and sign-out everywhere end every existing sign-in."""

from __future__ import annotations

import httpx

from tests.integration.users.support import PROBLEM, create_api_key, field_errors, key_headers
from tests.support.factories import SignedIn, sign_up

NEW_PASSWORD = "Another-Long-Secret-42"


async def _login(client: httpx.AsyncClient, user: SignedIn, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": user.email, "password": password})


async def test_password_change_ends_old_sign_ins(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    second_device = (await _login(client, alice, alice.password)).json()
    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": alice.password, "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert {"access_token", "refresh_token", "token_type"} <= set(fresh)

    for old_access in (alice.access_token, second_device["access_token"]):
        old = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_access}"})
        assert old.status_code == 401
    for old_refresh in (alice.refresh_token, second_device["refresh_token"]):
        spent = await client.post("/api/v1/auth/refresh", json={"refresh_token": old_refresh})
        assert spent.status_code == 401

    new = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert new.status_code == 200
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert (await _login(client, alice, alice.password)).status_code == 401
    assert (await _login(client, alice, NEW_PASSWORD)).status_code == 200


async def test_rejected_password_changes_change_nothing(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-my-Password-1", "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == PROBLEM
    weak = await client.post(
        "/api/v1/me/password",
        json={"current_password": alice.password, "new_password": "short1"},
        headers=alice.headers,
    )
    assert "password" in field_errors(weak)
    assert weak.json()["title"] == "Weak password"
    with_name = await client.post(
        "/api/v1/me/password",
        json={"current_password": alice.password, "new_password": "alice-Liddell-2024"},
        headers=alice.headers,
    )
    assert with_name.status_code == 422
    same = await client.post(
        "/api/v1/me/password",
        json={"current_password": alice.password, "new_password": alice.password},
        headers=alice.headers,
    )
    assert "new_password" in field_errors(same)
    missing = await client.post(
        "/api/v1/me/password", json={"new_password": NEW_PASSWORD}, headers=alice.headers
    )
    assert "current_password" in field_errors(missing)
    # Still the old password, and the old tokens still work.
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token}
    )
    assert refreshed.status_code == 200
    assert (await _login(client, alice, alice.password)).status_code == 200


async def test_logout_all_revokes_tokens_but_not_api_keys(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    api_key = await create_api_key(client, alice)
    out = await client.post("/api/v1/me/logout-all", headers=alice.headers)
    assert out.status_code == 204
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/me", headers=key_headers(api_key["key"]))).status_code == 200
    assert (await client.get("/api/v1/me", headers=bob.headers)).status_code == 200  # not bob
    again = await _login(client, alice, alice.password)
    assert again.status_code == 200
    fresh = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200

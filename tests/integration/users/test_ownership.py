"""User B tries every profile and API-key endpoint on user A's objects and gets nowhere."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.users.support import create_api_key, key_headers
from tests.support.factories import SignedIn, sign_up

PRIVATE_FIELDS = ("email", "preferences", "role", "updated_at", "is_active", "password_hash")


async def _snapshot(client: httpx.AsyncClient, user: SignedIn) -> dict[str, Any]:
    me = await client.get("/api/v1/me", headers=user.headers)
    keys = await client.get(
        "/api/v1/me/api-keys", params={"include_revoked": "true"}, headers=user.headers
    )
    assert me.status_code == 200 and keys.status_code == 200
    return {"me": me.json(), "keys": keys.json()}


async def test_b_can_neither_read_nor_change_a(client: httpx.AsyncClient) -> None:
    a = await sign_up(client, "alice")
    b = await sign_up(client, "bob")
    await client.patch(
        "/api/v1/me",
        json={"bio": "public bio", "preferences": {"private": "a's secret setting"}},
        headers=a.headers,
    )
    a_key = await create_api_key(client, a, "a's app")
    b_key = key_headers((await create_api_key(client, b, "b's app"))["key"])
    before = await _snapshot(client, a)
    a_key_url = f"/api/v1/me/api-keys/{a_key['id']}"

    for b_credentials in (b.headers, b_key):
        # Revoking A's key by id: indistinguishable from a key that does not exist.
        revoke = await client.delete(a_key_url, headers=b_credentials)
        assert revoke.status_code == 404
        unknown = await client.delete(
            "/api/v1/me/api-keys/00000000-0000-4000-8000-000000000000", headers=b_credentials
        )
        assert revoke.json()["detail"] == unknown.json()["detail"]

        # B's own listings and profile never contain A's objects.
        listing = await client.get(
            "/api/v1/me/api-keys", params={"include_revoked": "true"}, headers=b_credentials
        )
        assert a_key["id"] not in listing.text
        me = (await client.get("/api/v1/me", headers=b_credentials)).json()
        assert me["id"] == str(b.id)

        # A's public profile: public fields only.
        public = await client.get("/api/v1/users/alice", headers=b_credentials)
        assert public.status_code == 200
        assert public.json()["bio"] == "public bio"
        for field in PRIVATE_FIELDS:
            assert field not in public.json()
        assert a.email not in public.text and "secret setting" not in public.text

        # Taking A's email, or acting as an admin on A, is refused.
        steal = await client.patch("/api/v1/me", json={"email": a.email}, headers=b_credentials)
        assert steal.status_code == 409
        for method, body in (("PATCH", {"is_active": False}), ("PATCH", {"role": "listener"})):
            admin = await client.request(
                method, f"/api/v1/admin/users/{a.id}", json=body, headers=b_credentials
            )
            assert admin.status_code == 403
        assert (await client.get("/api/v1/admin/users", headers=b_credentials)).status_code == 403

    # B's account-wide actions stay on B: password change, sign-out everywhere, deletion.
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": b.password, "new_password": "Fresh-Secret-Phrase-77"},
        headers=b.headers,
    )
    assert changed.status_code == 200
    b_fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.post("/api/v1/me/logout-all", headers=b_fresh)).status_code == 204
    relogin = await client.post(
        "/api/v1/auth/login", json={"email": b.email, "password": "Fresh-Secret-Phrase-77"}
    )
    b_fresh = {"Authorization": f"Bearer {relogin.json()['access_token']}"}
    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": "Fresh-Secret-Phrase-77"}, headers=b_fresh
    )
    assert deleted.status_code == 204

    # A's data and credentials are exactly as before.
    assert await _snapshot(client, a) == before
    assert (await client.get("/api/v1/me", headers=a.headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=key_headers(a_key["key"]))).status_code == 200
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": a.refresh_token})
    assert refreshed.status_code == 200
    login = await client.post("/api/v1/auth/login", json={"email": a.email, "password": a.password})
    assert login.status_code == 200

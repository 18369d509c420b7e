"""Administration of accounts, and ensure_user for scripted set-up."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from audotics.problems import Conflict, Unprocessable
from audotics.services.users import service as users
from audotics.services.users.schemas import Role
from tests.integration.users.support import PROBLEM, create_api_key, field_errors, key_headers
from tests.support.factories import PASSWORD, sign_up


async def test_only_admins_reach_admin_endpoints(client: httpx.AsyncClient, app: FastAPI) -> None:
    listener = await sign_up(client, "lena")
    curator = await sign_up(client, "carl", app=app, role=Role.curator)
    for caller in (listener, curator):
        listing = await client.get("/api/v1/admin/users", headers=caller.headers)
        assert listing.status_code == 403
        assert listing.headers["content-type"] == PROBLEM
        promote = await client.patch(
            f"/api/v1/admin/users/{caller.id}", json={"role": "admin"}, headers=caller.headers
        )
        assert promote.status_code == 403
    assert (await client.get("/api/v1/admin/users")).status_code == 401
    me = (await client.get("/api/v1/me", headers=listener.headers)).json()
    assert me["role"] == "listener"  # the refused promotion changed nothing


async def test_admin_lists_users_paginated_and_filtered(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await sign_up(client, "root", app=app, role=Role.admin)
    for name in ("ann", "ben", "cat"):
        await sign_up(client, name)
    first = await client.get("/api/v1/admin/users", params={"limit": 3}, headers=admin.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == 4
    assert page["next_offset"] == 3
    assert [u["username"] for u in page["items"]] == ["root", "ann", "ben"]
    assert set(page["items"][0]) == {
        "id",
        "username",
        "email",
        "display_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    rest = await client.get(
        "/api/v1/admin/users", params={"limit": 3, "offset": 3}, headers=admin.headers
    )
    assert [u["username"] for u in rest.json()["items"]] == ["cat"]
    admins = await client.get("/api/v1/admin/users?role=admin", headers=admin.headers)
    assert [u["username"] for u in admins.json()["items"]] == ["root"]
    bad_filter = await client.get("/api/v1/admin/users?role=emperor", headers=admin.headers)
    assert "role" in field_errors(bad_filter)


async def test_admin_changes_role_and_deactivates(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await sign_up(client, "root", app=app, role=Role.admin)
    dana = await sign_up(client, "dana")
    dana_key = key_headers((await create_api_key(client, dana))["key"])

    promoted = await client.patch(
        f"/api/v1/admin/users/{dana.id}", json={"role": "curator"}, headers=admin.headers
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "curator"
    # Tokens carrying the old role are dead; a new sign-in carries the new one.
    assert (await client.get("/api/v1/me", headers=dana.headers)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": dana.email, "password": PASSWORD}
    )
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).json()["role"] == "curator"

    off = await client.patch(
        f"/api/v1/admin/users/{dana.id}", json={"is_active": False}, headers=admin.headers
    )
    assert off.json()["is_active"] is False
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 401
    assert (await client.get("/api/v1/me", headers=dana_key)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": dana.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    inactive = await client.get("/api/v1/admin/users?is_active=false", headers=admin.headers)
    assert [u["username"] for u in inactive.json()["items"]] == ["dana"]

    on = await client.patch(
        f"/api/v1/admin/users/{dana.id}", json={"is_active": True}, headers=admin.headers
    )
    assert on.status_code == 200
    assert (await client.get("/api/v1/me", headers=dana_key)).status_code == 200


async def test_admin_update_validation(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await sign_up(client, "root", app=app, role=Role.admin)
    dana = await sign_up(client, "dana")
    url = f"/api/v1/admin/users/{dana.id}"
    for body, field in (
        ({"role": None}, "role"),
        ({"role": "emperor"}, "role"),
        ({"is_active": "maybe"}, "is_active"),
        ({"password_hash": "x"}, "password_hash"),
    ):
        assert field in field_errors(await client.patch(url, json=body, headers=admin.headers))
    unknown = await client.patch(
        "/api/v1/admin/users/00000000-0000-4000-8000-000000000000",
        json={"role": "curator"},
        headers=admin.headers,
    )
    assert unknown.status_code == 404
    assert (await client.get("/api/v1/me", headers=dana.headers)).json()["role"] == "listener"


async def test_the_last_admin_cannot_step_down(client: httpx.AsyncClient, app: FastAPI) -> None:
    root = await sign_up(client, "root", app=app, role=Role.admin)
    own = f"/api/v1/admin/users/{root.id}"
    for body in (
        {"role": "curator"},
        {"is_active": False},
        {"role": "listener", "is_active": False},
    ):
        refused = await client.patch(own, json=body, headers=root.headers)
        assert refused.status_code == 409, body
        assert refused.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/me", headers=root.headers)).json()["role"] == "admin"
    unchanged = await client.patch(own, json={"role": "admin"}, headers=root.headers)
    assert unchanged.status_code == 200  # a no-op keeps the admin (and the session)
    assert (await client.get("/api/v1/me", headers=root.headers)).status_code == 200

    second = await sign_up(client, "deputy")
    promote = await client.patch(
        f"/api/v1/admin/users/{second.id}", json={"role": "admin"}, headers=root.headers
    )
    assert promote.status_code == 200
    step_down = await client.patch(own, json={"role": "listener"}, headers=root.headers)
    assert step_down.status_code == 200
    assert step_down.json()["role"] == "listener"


async def test_ensure_user_creates_then_updates(client: httpx.AsyncClient, app: FastAPI) -> None:
    db, config = app.state.infra.db, app.state.auth_config
    async with db.session() as session:
        created = await users.ensure_user(
            session, config, "Demo@Example.org", "demo", "Sample-Password-2024", Role.admin
        )
        created_id = created.id
    async with db.session() as session:
        same = await users.ensure_user(
            session, config, "demo@example.org", "demo", "Sample-Password-2024", Role.admin
        )
        assert same.id == created_id
        assert same.token_version == 0  # nothing changed, sign-ins untouched
    login = await client.post(
        "/api/v1/auth/login", json={"email": "demo", "password": "Sample-Password-2024"}
    )
    assert login.status_code == 200
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=token)).json()["role"] == "admin"

    async with db.session() as session:
        updated = await users.ensure_user(
            session, config, "new@example.org", "demo", "Fresh-Password-2025", Role.curator
        )
        assert updated.id == created_id
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"email": "demo", "password": "Sample-Password-2024"}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/v1/auth/login", json={"email": "new@example.org", "password": "Fresh-Password-2025"}
    )
    assert new.status_code == 200

    other = await sign_up(client, "other")
    async with db.session() as session:
        with pytest.raises(Conflict):
            await users.ensure_user(session, config, other.email, "demo", PASSWORD, Role.listener)
        with pytest.raises(Unprocessable):
            await users.ensure_user(session, config, "x@example.org", "Bad Name", PASSWORD)
        with pytest.raises(Unprocessable):
            await users.ensure_user(session, config, "y@example.org", "weakling", "password1")

"""Profile updates, their validation, and public profiles."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from audotics.services.users.schemas import PREFERENCES_MAX_BYTES, Role
from tests.integration.users.support import PROBLEM, field_errors
from tests.support.factories import sign_up


async def test_update_profile_fields(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    changes = {
        "display_name": "  Alice Liddell  ",
        "bio": "Listens to\nshoegaze.",
        "email": "Alice.New@Example.org",
        "preferences": {"theme": "dark", "languages": ["en", "fr"], "explicit": False},
    }
    response = await client.patch("/api/v1/me", json=changes, headers=alice.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice Liddell"
    assert body["bio"] == "Listens to\nshoegaze."
    assert body["email"] == "alice.new@example.org"
    assert body["preferences"] == changes["preferences"]
    # Omitted fields stay; preferences are replaced as a whole.
    again = await client.patch(
        "/api/v1/me", json={"preferences": {"theme": "light"}}, headers=alice.headers
    )
    assert again.json()["display_name"] == "Alice Liddell"
    assert again.json()["preferences"] == {"theme": "light"}
    me = (await client.get("/api/v1/me", headers=alice.headers)).json()
    assert me["preferences"] == {"theme": "light"}
    assert me["email"] == "alice.new@example.org"
    login = await client.post(
        "/api/v1/auth/login", json={"email": "alice.new@example.org", "password": alice.password}
    )
    assert login.status_code == 200


async def test_email_clash_is_409_and_changes_nothing(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    clash = await client.patch(
        "/api/v1/me",
        json={"display_name": "Bob B", "email": alice.email.upper()},
        headers=bob.headers,
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"] == PROBLEM
    me = (await client.get("/api/v1/me", headers=bob.headers)).json()
    assert me["email"] == bob.email
    assert me["display_name"] == "bob"  # the rejected request changed nothing
    own = await client.patch("/api/v1/me", json={"email": bob.email}, headers=bob.headers)
    assert own.status_code == 200


INVALID_UPDATES: list[tuple[dict[str, object], str]] = [
    ({"display_name": ""}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "x" * 101}, "display_name"),
    ({"display_name": "tab\there"}, "display_name"),
    ({"display_name": None}, "display_name"),
    ({"bio": "x" * 1001}, "bio"),
    ({"bio": "nul\x00byte"}, "bio"),
    ({"email": "not-an-email"}, "email"),
    ({"email": None}, "email"),
    ({"preferences": {"blob": "x" * PREFERENCES_MAX_BYTES}}, "preferences"),
    ({"preferences": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}}, "preferences"),
    ({"preferences": ["not", "an", "object"]}, "preferences"),
    ({"role": "admin"}, "role"),
]


async def test_invalid_profile_updates_are_field_problems(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    before = (await client.get("/api/v1/me", headers=alice.headers)).json()
    for body, field in INVALID_UPDATES:
        # A valid change rides along: the whole request must be rejected, not half applied.
        response = await client.patch(
            "/api/v1/me", json={"bio": "changed", **body}, headers=alice.headers
        )
        assert field in field_errors(response), body
    after = (await client.get("/api/v1/me", headers=alice.headers)).json()
    assert after == before


async def test_non_finite_numbers_in_preferences_are_rejected(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    response = await client.patch(
        "/api/v1/me",
        content=b'{"preferences": {"volume": NaN}}',
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert "preferences" in field_errors(response)
    me = (await client.get("/api/v1/me", headers=alice.headers)).json()
    assert me["preferences"] == {}


async def test_nul_in_text_is_422_not_500(client: httpx.AsyncClient) -> None:
    signup = await client.post(
        "/api/v1/auth/signup",
        json={
            "email": "z@example.org",
            "username": "zed",
            "password": "Correct-Horse-Battery-9",
            "display_name": "a\x00b",
        },
    )
    assert "display_name" in field_errors(signup)
    login = await client.post("/api/v1/auth/login", json={"email": "a\x00b", "password": "x"})
    assert "email" in field_errors(login)


async def test_public_profile_shows_public_fields_only(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    await client.patch(
        "/api/v1/me",
        json={"bio": "hi", "preferences": {"secret": "s3"}},
        headers=alice.headers,
    )
    for name in ("alice", "ALICE"):
        response = await client.get(f"/api/v1/users/{name}", headers=bob.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"id", "username", "display_name", "bio", "created_at"}
        assert body["username"] == "alice"
        assert body["bio"] == "hi"
    anonymous = await client.get("/api/v1/users/alice")
    assert anonymous.status_code == 401
    for missing in ("nobody", "x", "bad%20name"):
        response = await client.get(f"/api/v1/users/{missing}", headers=bob.headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM


async def test_deactivated_user_profile_is_404(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await sign_up(client, "root", app=app, role=Role.admin)
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    deactivate = await client.patch(
        f"/api/v1/admin/users/{alice.id}", json={"is_active": False}, headers=admin.headers
    )
    assert deactivate.status_code == 200
    response = await client.get("/api/v1/users/alice", headers=bob.headers)
    assert response.status_code == 404

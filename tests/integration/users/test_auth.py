"""Sign-up, sign-in, token refresh and rejection of bad credentials, on both databases."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt

from tests.conftest import TEST_SECRET
from tests.support.factories import PASSWORD, sign_up

PROBLEM = "application/problem+json"


async def test_signup_login_me(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "alice")
    response = await client.get("/api/v1/me", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.org"
    assert body["role"] == "listener"
    assert "password_hash" not in body


async def test_login_by_username(client: httpx.AsyncClient) -> None:
    await sign_up(client, "bob")
    response = await client.post("/api/v1/auth/login", json={"email": "bob", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_duplicate_username_and_email_conflict(client: httpx.AsyncClient) -> None:
    await sign_up(client, "carol")
    again = await client.post(
        "/api/v1/auth/signup",
        json={"email": "other@example.org", "username": "carol", "password": PASSWORD},
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    same_email = await client.post(
        "/api/v1/auth/signup",
        json={"email": "CAROL@example.org", "username": "carol2", "password": PASSWORD},
    )
    assert same_email.status_code == 409


async def test_weak_password_and_bad_username_rejected(client: httpx.AsyncClient) -> None:
    weak = await client.post(
        "/api/v1/auth/signup",
        json={"email": "d@example.org", "username": "dave", "password": "password1"},
    )
    assert weak.status_code == 422
    assert "Password too weak" in weak.json()["detail"]
    bad_name = await client.post(
        "/api/v1/auth/signup",
        json={"email": "e@example.org", "username": "Has Space", "password": PASSWORD},
    )
    assert bad_name.status_code == 422
    assert bad_name.json()["errors"][0]["field"] == "username"
    contains_name = await client.post(
        "/api/v1/auth/signup",
        json={"email": "f@example.org", "username": "frank", "password": "frank-Secret-99"},
    )
    assert contains_name.status_code == 422


async def test_wrong_password_is_401_problem(client: httpx.AsyncClient) -> None:
    await sign_up(client, "erin")
    response = await client.post(
        "/api/v1/auth/login", json={"email": "erin@example.org", "password": "wrong-Password-1"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.org", "password": "x"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]  # no account enumeration


async def test_refresh_rotates_and_detects_reuse(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "grace")
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != user.refresh_token
    # The spent token comes back: the whole sign-in is revoked, including the new token.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json()["title"] == "Refresh token reused"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "heidi")
    out = await client.post("/api/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 204
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 401


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_bad_tokens_are_401_problem(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "ivan")
    claims = jwt.decode(user.access_token, TEST_SECRET, algorithms=["HS256"])
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, TEST_SECRET, algorithm="HS256")
    other_key = jwt.encode(claims, "another-secret-another-secret-another!", algorithm="HS256")
    alg_none = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    header, _payload, signature = user.access_token.split(".")
    tampered_claims = {**claims, "role": "admin"}
    tampered = f"{header}.{_b64(tampered_claims)}.{signature}"
    refresh_as_access = user.refresh_token
    for token in (expired, other_key, alg_none, tampered, refresh_as_access, "garbage", "a.b.c"):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (token, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.headers.get("www-authenticate") == "Bearer"
    missing = await client.get("/api/v1/me")
    assert missing.status_code == 401


async def test_a_token_seen_before_is_still_checked_each_time(client: httpx.AsyncClient) -> None:
    """Verified tokens are remembered, yet expiry and revocation still apply on every use."""
    user = await sign_up(client, "judy")
    claims = jwt.decode(user.access_token, TEST_SECRET, algorithms=["HS256"])
    # exp is whole seconds: at least one full second of validity left when first used.
    expires = int(time.time()) + 2
    short = {"Authorization": f"Bearer {jwt.encode({**claims, 'exp': expires}, TEST_SECRET)}"}
    assert (await client.get("/api/v1/me", headers=short)).status_code == 200
    assert (await client.get("/api/v1/me", headers=short)).status_code == 200
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    late = await client.get("/api/v1/me", headers=short)
    assert late.status_code == 401 and late.json()["title"] == "Token expired", late.text

    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
    assert (await client.post("/api/v1/me/logout-all", headers=user.headers)).status_code == 204
    revoked = await client.get("/api/v1/me", headers=user.headers)
    assert revoked.status_code == 401 and revoked.json()["title"] == "Token revoked", revoked.text


async def test_malformed_json_is_400_and_wrong_types_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/signup", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Malformed JSON"
    wrong = await client.post(
        "/api/v1/auth/signup", json={"email": 5, "username": ["x"], "password": None}
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert {"email", "username", "password"} <= fields

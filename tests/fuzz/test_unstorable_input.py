"""Text no database can store is refused with a 4xx problem on every endpoint that takes text.

PostgreSQL ``text`` cannot hold NUL; a lone surrogate (valid JSON: ``"\\ud800"``)
cannot be encoded as UTF-8 by either driver. Either one reaching the driver is a
500. The fuzzer finds these by chance (NUL) or not at all (surrogates, which it
cannot generate); these cases pin every text input down on both backends. NUL in
a ``{username}`` path parameter answered 500 on PostgreSQL (found by tests/fuzz).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audotics.services.users.schemas import Role
from tests.support.factories import PASSWORD, sign_up

PROBLEM_JSON = "application/problem+json"
NUL = "a\x00b"
SURROGATE = "a\ud800b"

# (method, path, body builder): {bad} marks where the unstorable text goes.
BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/auth/signup", {"email": "x@example.org", "username": "xyz", "password": "{bad}"}),
    (
        "POST",
        "/auth/signup",
        {
            "email": "y@example.org",
            "username": "yyy",
            "password": PASSWORD,
            "display_name": "{bad}",
        },
    ),
    ("POST", "/auth/login", {"email": "{bad}", "password": PASSWORD}),
    ("POST", "/auth/refresh", {"refresh_token": "{bad}"}),
    ("POST", "/auth/logout", {"refresh_token": "{bad}"}),
    ("PATCH", "/me", {"display_name": "{bad}"}),
    ("PATCH", "/me", {"bio": "{bad}"}),
    ("POST", "/me/password", {"current_password": "{bad}", "new_password": PASSWORD}),
    ("POST", "/me/api-keys", {"name": "{bad}"}),
    ("POST", "/artists", {"name": "{bad}"}),
    ("POST", "/artists", {"name": "Fine", "genres": ["{bad}"]}),
    ("POST", "/albums", {"title": "{bad}", "artist": "Fine"}),
    ("POST", "/albums", {"title": "Fine", "artist": "{bad}"}),
    ("POST", "/tracks", {"title": "{bad}", "artist": "Fine"}),
    ("POST", "/tracks", {"title": "Fine", "artist": "Fine", "album": "{bad}"}),
    ("POST", "/tracks", {"title": "Fine", "artist": "Fine", "isrc": "{bad}"}),
    ("POST", "/playlists", {"name": "{bad}"}),
    ("POST", "/playlists", {"name": "Fine", "description": "{bad}"}),
]

# Preferences are the client's own JSON (a ``json`` column, which holds "\u0000" fine);
# only text no encoder can write is refused there.
PREFERENCES = [{"theme": "{bad}"}, {"{bad}": [1, {"{bad}": "{bad}"}]}]

# NUL arrives in a query string or path as %00 (a surrogate cannot: URLs carry UTF-8).
# {playlist} is a playlist of the caller's. Search drops NUL from what it matches (200).
URLS = [
    ("GET", "/artists?q={bad}", 422),
    ("GET", "/artists?genre={bad}", 422),
    ("GET", "/albums?q={bad}", 422),
    ("GET", "/genres?q={bad}", 422),
    ("GET", "/tracks?genre={bad}", 422),
    ("GET", "/search?q={bad}", 200),
    ("GET", "/search?genre={bad}", 200),
    ("GET", "/search?key={bad}", 422),
    ("GET", "/search?mode={bad}", 422),
    ("GET", "/users/{bad}", 404),
    # These three answered 500 on PostgreSQL: the name went into the query as it was.
    ("GET", "/users/{bad}/playlists", 404),
    ("PUT", "/playlists/{playlist}/collaborators/{bad}", 404),
    ("DELETE", "/playlists/{playlist}/collaborators/{bad}", 404),
]


def _fill(template: Any, bad: str) -> Any:
    if isinstance(template, dict):
        return {_fill(k, bad): _fill(v, bad) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, bad) for v in template]
    return template.replace("{bad}", bad) if isinstance(template, str) else template


def _assert_problem(response: httpx.Response, allowed: tuple[int, ...]) -> None:
    assert response.status_code in allowed, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == response.status_code


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
async def test_unstorable_text_in_a_body_is_422(
    client: httpx.AsyncClient, app: FastAPI, bad: str
) -> None:
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    for method, path, template in BODIES:
        # ASCII escapes: "\u0000" and "\ud800" are what a JSON client sends.
        content = json.dumps(_fill(template, bad)).encode()
        response = await client.request(
            method,
            f"/api/v1{path}",
            content=content,
            headers={**curator.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, f"{method} {path}: {response.text}"
        _assert_problem(response, (422,))
    # Nothing was stored by the refused requests.
    me = (await client.get("/api/v1/me", headers=curator.headers)).json()
    assert me["display_name"] == "curator" and me["bio"] == "" and me["preferences"] == {}
    for listing in ("/artists", "/albums", "/tracks", "/playlists", "/me/api-keys"):
        page = (await client.get(f"/api/v1{listing}", headers=curator.headers)).json()
        assert page["total"] == 0, (listing, page)


async def test_preferences_keep_nul_and_refuse_surrogates(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await sign_up(client, "listener")
    for template in PREFERENCES:
        for bad, expected in ((SURROGATE, 422), (NUL, 200)):
            preferences = _fill(template, bad)
            response = await client.patch(
                "/api/v1/me",
                content=json.dumps({"preferences": preferences}).encode(),
                headers={**user.headers, "Content-Type": "application/json"},
            )
            assert response.status_code == expected, response.text
            if expected == 200:
                stored = (await client.get("/api/v1/me", headers=user.headers)).json()
                assert stored["preferences"] == preferences
            else:
                _assert_problem(response, (422,))


async def test_nul_in_a_query_or_path_is_refused_not_a_500(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    curator = await sign_up(client, "curator", app=app, role=Role.curator)
    playlist = await client.post("/api/v1/playlists", json={"name": "p"}, headers=curator.headers)
    assert playlist.status_code == 201
    for method, template, expected in URLS:
        url = template.replace("{bad}", "cur%00ator").replace("{playlist}", playlist.json()["id"])
        response = await client.request(method, f"/api/v1{url}", headers=curator.headers)
        assert response.status_code == expected, f"{method} {url}: {response.text}"
        if expected >= 400:
            _assert_problem(response, (expected,))

"""Signed-in users and small helpers shared by the catalog suites."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audotics.infra.objects.base import ObjectStore
from audotics.services.users.schemas import Role
from tests.support.factories import SignedIn, sign_up

PROBLEM = "application/problem+json"


@pytest.fixture
async def curator(client: httpx.AsyncClient, app: FastAPI) -> SignedIn:
    return await sign_up(client, "curator", app=app, role=Role.curator)


@pytest.fixture
async def listener(client: httpx.AsyncClient) -> SignedIn:
    return await sign_up(client, "listener")


@pytest.fixture
async def stranger(client: httpx.AsyncClient) -> SignedIn:
    return await sign_up(client, "stranger")


@pytest.fixture
def objects(app: FastAPI) -> ObjectStore:
    store: ObjectStore = app.state.infra.objects
    return store


async def create_track(
    client: httpx.AsyncClient, user: SignedIn, title: str = "Song", **fields: Any
) -> dict[str, Any]:
    body = {"title": title, **fields}
    if "artist_id" not in fields:
        body.setdefault("artist", "Some Artist")
    response = await client.post("/api/v1/tracks", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body

"""Helpers shared by the user-service tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import SignedIn

PROBLEM = "application/problem+json"


async def create_api_key(client: httpx.AsyncClient, owner: SignedIn, name: str = "app") -> Any:
    response = await client.post("/api/v1/me/api-keys", json={"name": name}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def key_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def field_errors(response: httpx.Response) -> set[str]:
    """The fields a 422 problem names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return {error["field"] for error in response.json()["errors"]}

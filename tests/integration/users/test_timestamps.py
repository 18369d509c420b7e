"""Every timestamp the user service answers with carries its UTC offset, on both databases.

SQLite hands timezone-aware columns back naive, and the user service used to
answer ``"2026-01-01T12:00:00.123456"``: not an RFC 3339 ``date-time`` as its
OpenAPI document promises (found by tests/fuzz).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from audotics.services.users.schemas import Role
from tests.support.factories import sign_up

STAMPS = ("created_at", "updated_at", "last_used_at", "revoked_at")


def _stamps(document: Any) -> list[str]:
    if isinstance(document, dict):
        found = [v for k, v in document.items() if k in STAMPS and isinstance(v, str)]
        return found + [s for v in document.values() for s in _stamps(v)]
    if isinstance(document, list):
        return [s for v in document for s in _stamps(v)]
    return []


def _assert_utc(document: Any) -> int:
    stamps = _stamps(document)
    for stamp in stamps:
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0), stamp
    return len(stamps)


async def test_user_service_timestamps_are_utc_with_offset(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await sign_up(client, "boss", app=app, role=Role.admin)
    user = await sign_up(client, "someone")
    key = await client.post("/api/v1/me/api-keys", json={"name": "k"}, headers=user.headers)
    assert key.status_code == 201
    revoked = await client.delete(f"/api/v1/me/api-keys/{key.json()['id']}", headers=user.headers)
    assert revoked.status_code == 204
    answers = [
        await client.get("/api/v1/me", headers=user.headers),
        await client.patch("/api/v1/me", json={"bio": "hi"}, headers=user.headers),
        await client.get("/api/v1/users/boss", headers=user.headers),
        await client.get(
            "/api/v1/me/api-keys", params={"include_revoked": "true"}, headers=user.headers
        ),
        await client.get("/api/v1/admin/users", headers=admin.headers),
        await client.patch(
            f"/api/v1/admin/users/{user.id}", json={"role": "curator"}, headers=admin.headers
        ),
    ]
    counted = 0
    for answer in answers:
        assert answer.status_code == 200, answer.text
        counted += _assert_utc(answer.json())
    assert counted >= 12  # the list above really holds timestamps

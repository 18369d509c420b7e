"""Export and deletion of everything held about a user, across contributors."""

from __future__ import annotations

import re
import types
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.problems import NotFound
from audotics.services import registry
from audotics.services.personal_data import (
    PersonalData,
    PersonalDataContributor,
    contributor_from_module,
)
from audotics.services.users import service as users
from audotics.services.users.models import ApiKey, RefreshToken, User
from tests.integration.users.support import PROBLEM, create_api_key, key_headers
from tests.support.factories import SignedIn, sign_up


class Notes:
    """A stand-in for another service: it owns a table of notes about users."""

    name = "notes"

    async def export(self, session: AsyncSession, user_id: uuid.UUID) -> Any:
        rows = await session.execute(
            text("SELECT body FROM personal_notes WHERE user_id = :u ORDER BY body"),
            {"u": str(user_id)},
        )
        return {"notes": list(rows.scalars())}

    async def delete(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        await session.execute(
            text("DELETE FROM personal_notes WHERE user_id = :u"), {"u": str(user_id)}
        )


class Boom:
    name = "boom"

    async def export(self, session: AsyncSession, user_id: uuid.UUID) -> Any:
        return None

    async def delete(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        raise RuntimeError("storage failed half way")


class Witness:
    """Deletes nothing; looks at the account row from inside and outside the transaction."""

    name = "witness"

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.seen: dict[str, bool] = {}

    async def export(self, session: AsyncSession, user_id: uuid.UUID) -> Any:
        return {}

    async def delete(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        try:
            await users.get_user(session, user_id)
            self.seen["inside"] = True
        except NotFound:
            self.seen["inside"] = False
        async with self.app.state.infra.db.sessionmaker() as other:
            self.seen["outside"] = await other.get(User, user_id) is not None


@pytest.fixture
async def notes_table(app: FastAPI) -> AsyncIterator[None]:
    async with app.state.infra.db.engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE personal_notes (user_id VARCHAR(36) NOT NULL, body TEXT NOT NULL)")
        )
    yield


async def _add_note(app: FastAPI, user: SignedIn, body: str) -> None:
    async with app.state.infra.db.session() as session:
        await session.execute(
            text("INSERT INTO personal_notes (user_id, body) VALUES (:u, :b)"),
            {"u": str(user.id), "b": body},
        )


async def _counts(app: FastAPI, user_id: uuid.UUID) -> dict[str, int]:
    async with app.state.infra.db.session() as session:
        notes = await session.scalar(
            text("SELECT count(*) FROM personal_notes WHERE user_id = :u"), {"u": str(user_id)}
        )
        return {
            "users": await session.scalar(select(func.count()).where(User.id == user_id)) or 0,
            "api_keys": await session.scalar(
                select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id)
            )
            or 0,
            "refresh_tokens": await session.scalar(
                select(func.count())
                .select_from(RefreshToken)
                .where(RefreshToken.user_id == user_id)
            )
            or 0,
            "notes": notes or 0,
        }


def _use(app: FastAPI, *contributors: PersonalDataContributor) -> None:
    app.state.personal_data = PersonalData(contributors)


def _users_contributor() -> PersonalDataContributor:
    return contributor_from_module("users", users)


async def _delete(client: httpx.AsyncClient, user: SignedIn, password: str) -> httpx.Response:
    return await client.request(
        "DELETE", "/api/v1/me", json={"password": password}, headers=user.headers
    )


# --- export -------------------------------------------------------------------------------


async def test_export_has_every_section_and_no_secrets(
    client: httpx.AsyncClient, app: FastAPI, notes_table: None
) -> None:
    app.state.personal_data.register(Notes())
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    await client.patch("/api/v1/me", json={"preferences": {"theme": "dark"}}, headers=alice.headers)
    key = await create_api_key(client, alice, "scrobbler")
    await _add_note(app, alice, "likes jazz")
    await _add_note(app, bob, "bob's note")

    response = await client.get("/api/v1/me/export", headers=alice.headers)
    assert response.status_code == 200, response.text
    assert re.fullmatch(
        r'attachment; filename="audotics-alice-\d{8}\.json"',
        response.headers["content-disposition"],
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document["user_id"] == str(alice.id)
    assert set(document["sections"]) == {*registry.PERSONAL_DATA, "notes"}
    section = document["sections"]["users"]
    assert section["profile"]["username"] == "alice"
    assert section["profile"]["email"] == alice.email
    assert section["profile"]["preferences"] == {"theme": "dark"}
    assert [k["id"] for k in section["api_keys"]] == [key["id"]]
    assert len(section["sign_ins"]) == 1
    assert document["sections"]["notes"] == {"notes": ["likes jazz"]}  # not bob's

    async with app.state.infra.db.session() as session:
        user = await session.get(User, alice.id)
        assert user is not None
        key_hash = (await session.execute(select(ApiKey.key_hash))).scalar_one()
        secrets = [user.password_hash, key_hash, key["key"], alice.refresh_token]
    for secret in secrets:
        assert secret not in response.text
    for field in ("password_hash", "key_hash", "password", "token_version"):
        assert f'"{field}"' not in response.text


# --- deletion -----------------------------------------------------------------------------


async def test_delete_account_removes_everything(
    client: httpx.AsyncClient, app: FastAPI, notes_table: None
) -> None:
    witness = Witness(app)
    # The witness is registered before users, so it runs after the account row is deleted.
    _use(app, witness, _users_contributor(), Notes())
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    key = await create_api_key(client, alice)
    await _add_note(app, alice, "a")
    await _add_note(app, bob, "b")

    response = await _delete(client, alice, alice.password)
    assert response.status_code == 204, response.text
    # Inside the request's transaction the row was gone; outside, not yet committed.
    assert witness.seen == {"inside": False, "outside": True}

    assert await _counts(app, alice.id) == {
        "users": 0,
        "api_keys": 0,
        "refresh_tokens": 0,
        "notes": 0,
    }
    assert (await _counts(app, bob.id))["notes"] == 1
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    assert (await client.get("/api/v1/me", headers=key_headers(key["key"]))).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert refresh.status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    )
    assert login.status_code == 401
    assert (await client.get("/api/v1/me", headers=bob.headers)).status_code == 200
    reborn = await sign_up(client, "alice")  # the username and email are free again
    assert reborn.id != alice.id


async def test_failing_contributor_rolls_everything_back(app: FastAPI, notes_table: None) -> None:
    # Boom runs last, after notes and the account were deleted in the same transaction.
    _use(app, Boom(), _users_contributor(), Notes())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        alice = await sign_up(client, "alice")
        await create_api_key(client, alice)
        await _add_note(app, alice, "keep me")
        before = await _counts(app, alice.id)
        assert before == {"users": 1, "api_keys": 1, "refresh_tokens": 1, "notes": 1}

        response = await _delete(client, alice, alice.password)
        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM
        assert "storage failed" not in response.text  # internals stay in the log
        assert await _counts(app, alice.id) == before
        assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200


async def test_rejected_deletions_delete_nothing(
    client: httpx.AsyncClient, app: FastAPI, notes_table: None
) -> None:
    app.state.personal_data.register(Notes())
    alice = await sign_up(client, "alice")
    await _add_note(app, alice, "keep me")
    before = await _counts(app, alice.id)
    wrong = await _delete(client, alice, "not-the-Password-1")
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == PROBLEM
    no_body = await client.request("DELETE", "/api/v1/me", headers=alice.headers)
    assert no_body.status_code == 422
    anonymous = await client.request("DELETE", "/api/v1/me", json={"password": alice.password})
    assert anonymous.status_code == 401
    assert await _counts(app, alice.id) == before


# --- the registry itself ------------------------------------------------------------------


def test_registry_lists_users_first_and_rejects_duplicates() -> None:
    contributors = registry.personal_data_contributors()
    assert [c.name for c in contributors] == list(registry.PERSONAL_DATA)
    assert contributors[0].name == "users"
    personal_data = PersonalData(contributors)
    with pytest.raises(ValueError, match="already registered"):
        personal_data.register(_users_contributor())
    nameless = types.SimpleNamespace(name="", export=None, delete=None)
    with pytest.raises(ValueError, match="non-empty name"):
        personal_data.register(nameless)  # type: ignore[arg-type]
    assert isinstance(Notes(), PersonalDataContributor)


def test_service_without_the_functions_is_refused() -> None:
    half = types.ModuleType("audotics.services.half.service")
    half.export_user_data = lambda session, user_id: None  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="delete_user_data"):
        contributor_from_module("half", half)

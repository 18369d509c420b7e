"""Creating users and signed-in clients through the real HTTP API, and catalog summaries
for tests that build serving state by hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from audotics.services.catalog.schemas import ArtistRef, TrackSummary
from audotics.services.users import service as users
from audotics.services.users.schemas import Role

PASSWORD = "Correct-Horse-Battery-9"


@dataclass
class SignedIn:
    id: uuid.UUID
    username: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def sign_up(
    client: httpx.AsyncClient,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    app: FastAPI | None = None,
    role: Role = Role.listener,
) -> SignedIn:
    """Sign up and sign in through the API; promote to ``role`` via the service (needs ``app``)."""
    username = username or f"user-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.org"
    response = await client.post(
        "/api/v1/auth/signup", json={"email": email, "username": username, "password": password}
    )
    assert response.status_code == 201, response.text
    user_id = uuid.UUID(response.json()["id"])
    if role is not Role.listener:
        assert app is not None, "promoting a user needs the app"
        async with app.state.infra.db.session() as session:
            await users.set_role(session, user_id, role)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    return SignedIn(
        id=user_id,
        username=username,
        email=email,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def track_summary(title: str, *, has_audio: bool = True) -> TrackSummary:
    """A catalog summary whose ids are derived from ``title`` (one artist per title)."""
    artist = ArtistRef(id=uuid.uuid5(uuid.NAMESPACE_URL, title), name=f"{title} artist")
    return TrackSummary(
        id=uuid.uuid5(uuid.NAMESPACE_DNS, title),
        title=title,
        duration_s=None,
        artist=artist,
        album=None,
        genres=[],
        has_audio=has_audio,
    )

"""Property-based fuzzing of the HTTP API from its own OpenAPI document.

The application runs for real (lifespan, database, object store) inside
Starlette's ``TestClient``; schemathesis generates requests from
``/openapi.json`` in positive (schema-valid) and negative (mutated) mode, and a
NUL sweep puts a NUL character into each string of valid requests in turn (the
one input PostgreSQL refuses that the generators rarely hit). Path parameters
are generated, or point at objects that exist so the fuzzer gets past the 404s.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from starlette.exceptions import StarletteDeprecationWarning

from audotics.app import create_app
from audotics.config import Settings
from audotics.services.users.schemas import Role
from tests.fuzz.wire import (
    BASE_URL,
    CHECKS,
    Unsendable,
    httpx_kwargs,
    string_leaves,
    with_known_ids,
    with_leaf,
)
from tests.support.audio import encode
from tests.support.factories import SignedIn, sign_up

with warnings.catch_warnings():  # "use httpx2 instead": httpx is what the project ships
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

# Operations that end the caller's sign-ins run as a user of their own, signed in again after.
SESSION_ENDERS = {"POST /api/v1/me/logout-all"}
# Headers the OpenAPI document does not list but the handlers parse (streaming, caching,
# concurrency control): fuzzed too, since a parser bug there is a 500 like any other.
EXTRA_HEADERS = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match")
MAX_LEAVES_PER_SWEEP = 12


def _drop_if_match(case: schemathesis.Case) -> None:
    if case.headers:
        case.headers.pop("If-Match", None)


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same examples on every run: CI failures reproduce
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


@dataclass(frozen=True)
class Budget:
    """Examples per operation: generated valid, generated invalid, valid ones NUL-swept."""

    positive: int
    negative: int
    nul_sweep: int


@dataclass
class Callers:
    curator: SignedIn
    admin: SignedIn
    ender: SignedIn
    other: SignedIn  # collaborator, public profile
    target: SignedIn  # what the admin operations change (role, deactivation)

    def headers_for(self, label: str) -> dict[str, str]:
        if label.split(" ")[1].startswith("/api/v1/admin/"):
            return self.admin.headers
        if label in SESSION_ENDERS:
            return self.ender.headers
        return self.curator.headers


@dataclass
class Target:
    app: FastAPI
    http: TestClient
    callers: Callers
    counter: Iterator[int] = field(default_factory=itertools.count)
    api_key_id: str = ""  # made before POST /me/api-keys is fuzzed: only 25 may be active
    known: dict[str, str] = field(default_factory=dict)  # objects every operation may name

    # --- set-up ---------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        response = self.http.get("/openapi.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    def expect_ok(
        self,
        method: str,
        path: str,
        who: SignedIn,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        headers = {**who.headers, **(headers or {})}
        response = self.http.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert response.status_code in (200, 201), f"seeding {method} {path}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def seed(self) -> dict[str, str]:
        """Fresh objects of every kind an operation may name, by the name of their id."""
        n = next(self.counter)
        curator, other = self.callers.curator, self.callers.other
        artist = self.expect_ok("POST", "/artists", curator, json={"name": f"Fuzz Artist {n}"})
        album = self.expect_ok(
            "POST", "/albums", curator, json={"title": f"Fuzz Album {n}", "artist_id": artist["id"]}
        )
        track = self.expect_ok(
            "POST",
            "/tracks",
            curator,
            json={"title": f"Fuzz Track {n}", "artist_id": artist["id"], "album_id": album["id"]},
        )
        self.expect_ok(
            "PUT",
            f"/tracks/{track['id']}/audio",
            curator,
            content=encode("wav", seconds=0.2),
            headers={"Content-Type": "audio/wav"},
        )
        playlist = self.expect_ok("POST", "/playlists", curator, json={"name": f"Fuzz {n}"})
        added = self.expect_ok(  # the same track twice: two entries to move one around the other
            "POST",
            f"/playlists/{playlist['id']}/items",
            curator,
            json={"track_ids": [track["id"], track["id"]]},
        )
        self.expect_ok(
            "PUT", f"/playlists/{playlist['id']}/collaborators/{other.username}", curator
        )
        known = {
            "artist_id": artist["id"],
            "album_id": album["id"],
            "track_id": track["id"],
            "playlist_id": playlist["id"],
            "item_id": added["items"][0]["id"],
            "other_item_id": added["items"][1]["id"],
            "user_id": str(self.callers.target.id),
            "username": other.username,
            "key_id": self.api_key_id,
        }
        return known

    def sign_in_again(self, user: SignedIn) -> None:
        response = self.http.post(
            "/api/v1/auth/login", json={"email": user.email, "password": user.password}
        )
        assert response.status_code == 200, response.text
        user.access_token = response.json()["access_token"]

    # --- fuzzing --------------------------------------------------------------------------

    @staticmethod
    def _strategy(
        operation: Any, mode: GenerationMode, known: dict[str, str], *, seeded_only: bool = False
    ) -> Any:
        """Cases with generated path parameters or, as often, ones naming real objects."""
        generated = operation.as_strategy(generation_mode=mode)
        if not known:
            return generated
        seeded = operation.as_strategy(generation_mode=mode, path_parameters=known)
        return seeded if seeded_only else st.one_of(generated, seeded)

    def _check(self, case: schemathesis.Case, headers: dict[str, str]) -> None:
        try:
            kwargs = httpx_kwargs(case, headers)
        except Unsendable:
            reject()
        response = self.http.request(**kwargs)
        response.request.read()  # a multipart body is a stream until read
        if case.operation.label in SESSION_ENDERS and response.status_code == 204:
            self.sign_in_again(self.callers.ender)
        case.validate_response(response, checks=CHECKS)

    def fuzz(self, operation: Any, budget: Budget) -> None:
        # With neither parameters nor a body there is nothing to mutate or sweep.
        mutable = any(True for _ in operation.iter_parameters()) or bool(operation.body)
        label: str = operation.label
        # Deleting runs last and each gets objects of its own; the rest share one set.
        known = self.seed() if operation.method.upper() == "DELETE" else self.known
        in_path = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        extra_headers = st.dictionaries(
            st.sampled_from(EXTRA_HEADERS),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
            max_size=2,
        )
        # Signed in, anonymous, or with whatever credentials schemathesis generated.
        caller = st.sampled_from(["signed-in", "signed-in", "signed-in", "anonymous", "generated"])
        for mode, examples in (
            (GenerationMode.POSITIVE, budget.positive),
            (GenerationMode.NEGATIVE, budget.negative if mutable else 0),
        ):
            if not examples:
                continue

            @_settings(examples)
            @given(
                case=self._strategy(operation, mode, in_path),
                caller=caller,
                extra=extra_headers,
                use_known=st.booleans(),
            )
            def generated(
                case: schemathesis.Case, caller: str, extra: dict[str, str], use_known: bool
            ) -> None:
                if use_known:  # ids in the body and query that exist, and no If-Match to miss
                    case.body = with_known_ids(case.body, known)
                    case.query = with_known_ids(case.query, known)
                    _drop_if_match(case)
                if caller == "anonymous" and case.headers:
                    for name in ("Authorization", "X-API-Key"):
                        case.headers.pop(name, None)
                signed_in = self.callers.headers_for(label) if caller == "signed-in" else {}
                self._check(case, {**extra, **signed_in})

            generated()
        if mutable and budget.nul_sweep:
            self._nul_sweep(operation, budget.nul_sweep, known, in_path)

    def _nul_sweep(
        self, operation: Any, examples: int, known: dict[str, str], in_path: dict[str, str]
    ) -> None:
        """Each string of a valid request (body, query, path), with a NUL in it, in turn."""
        headers = self.callers.headers_for(operation.label)
        strategy = self._strategy(operation, GenerationMode.POSITIVE, in_path, seeded_only=True)

        @_settings(examples)
        @given(case=strategy)
        def swept(case: schemathesis.Case) -> None:
            case.body = with_known_ids(case.body, known)
            case.query = with_known_ids(case.query, known)
            _drop_if_match(case)
            targets = [("body", p) for p in string_leaves(case.body)]
            for container in ("query", "path_parameters"):
                targets += [(container, p) for p in string_leaves(getattr(case, container))]
            for container, path in targets[:MAX_LEAVES_PER_SWEEP]:
                poisoned = case.derive()
                value = with_leaf(getattr(case, container), path, lambda t: f"{t[:1]}\x00{t[1:]}")
                setattr(poisoned, container, value)
                self._check(poisoned, headers)

        swept()


@contextlib.contextmanager
def running(settings_: Settings) -> Iterator[Target]:
    """The app, started for real, with a curator, an admin and three listeners signed in."""
    app = create_app(settings_.model_copy(update={"embedded_worker": False}))
    with TestClient(
        app, base_url=BASE_URL, raise_server_exceptions=False, follow_redirects=False
    ) as http:
        assert http.portal is not None

        async def sign_everyone_up() -> Callers:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                return Callers(
                    curator=await sign_up(client, "fuzz-curator", app=app, role=Role.curator),
                    admin=await sign_up(client, "fuzz-admin", app=app, role=Role.admin),
                    ender=await sign_up(client, "fuzz-ender"),
                    other=await sign_up(client, "fuzz-other"),
                    target=await sign_up(client, "fuzz-target"),
                )

        target = Target(app=app, http=http, callers=http.portal.call(sign_everyone_up))
        key = target.expect_ok(
            "POST", "/me/api-keys", target.callers.curator, json={"name": "fuzz"}
        )
        target.api_key_id = key["id"]
        target.known = target.seed()
        yield target

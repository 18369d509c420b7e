"""GET /api/v1/search as a contract: sign-in, parameters and their bounds, pages, no 5xx."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.search.support import PROBLEM, SEARCH, document, index, search
from tests.support.factories import SignedIn


async def test_searching_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.get(SEARCH, params={"q": "anything"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


BAD_PARAMETERS: list[tuple[dict[str, object], str]] = [
    ({"limit": 101}, "limit"),
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"q": "a" * 501}, "q"),
    ({"kinds": "track,song"}, "kinds.1"),
    ({"tempo_min": 120, "tempo_max": 100}, "tempo_max"),
    ({"energy_min": 0.8, "energy_max": 0.2}, "energy_max"),
    ({"valence_max": 1.5}, "valence_max"),
    ({"danceability_min": -0.1}, "danceability_min"),
    ({"tempo_max": "fast"}, "tempo_max"),
    ({"key": "H"}, "key"),
    ({"mode": "dorian"}, "mode"),
    ({"genre": ""}, "genre"),
]


async def test_bad_parameters_are_422_problems_naming_the_field(
    client: httpx.AsyncClient, viewer: SignedIn
) -> None:
    # One app for every case: validation does not depend on the database.
    for params, field in BAD_PARAMETERS:
        response = await client.get(SEARCH, params={"q": "x", **params}, headers=viewer.headers)

        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["type"] == "/problems/validation-error" and body["status"] == 422
        assert field in {error["field"] for error in body["errors"]}, (params, body)


async def test_a_genre_without_words_is_a_422_problem(
    client: httpx.AsyncClient, viewer: SignedIn
) -> None:
    response = await client.get(SEARCH, params={"genre": "!!"}, headers=viewer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "genre"


async def test_pages_are_stable_and_cover_every_result_once(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    # Many exact ties (same title, same popularity) to prove the order is total.
    await index(app, [document("Interlude", popularity=i % 3) for i in range(25)])

    whole = await search(client, viewer.headers, "interlude", limit=25)
    pages, offset = [], 0
    while offset is not None:
        page = await search(client, viewer.headers, "interlude", limit=10, offset=offset)
        assert page["total"] == 25 and page["limit"] == 10 and page["offset"] == offset
        pages.append(page)
        offset = page["next_offset"]

    assert [p["next_offset"] for p in pages] == [10, 20, None]
    paged_ids = [item["id"] for p in pages for item in p["items"]]
    assert paged_ids == [item["id"] for item in whole["items"]]
    assert len(set(paged_ids)) == 25
    past_the_end = await search(client, viewer.headers, "interlude", offset=40)
    assert past_the_end["items"] == [] and past_the_end["total"] == 25
    assert past_the_end["next_offset"] is None


async def test_the_openapi_schema_documents_the_parameters(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][SEARCH]["get"]
    params = {p["name"]: p for p in operation["parameters"]}

    assert operation["tags"] == ["search"]
    assert {"q", "kinds", "limit", "offset", "tempo_min", "key", "mode", "genre"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["q"]["schema"]["maxLength"] == 500
    assert all(p.get("description") for p in params.values())


# Query strings built to break a naive query builder: FTS5 and tsquery syntax, quotes,
# backslashes, NUL and other control characters, combining marks, long runs.
SYNTAX = "\"'*:^(){}[]-+~!&|<>\\%_ \x00\t\nANDORNOTNEAR"
OPERATORS = ["AND", "OR", "NOT", "NEAR(", "a*", '"x', "'y", "z:*", "{title}:", "\\", "!!"]
FUZZ_ID = uuid.UUID(int=1)
hostile_queries = st.one_of(
    st.text(max_size=60),
    # \u02bc and \u0149 are letters that unaccent turns into an apostrophe.
    st.text(alphabet=st.sampled_from(SYNTAX + "abc\u00e9\u0308\u02bc\u0149"), max_size=60),
    st.lists(st.sampled_from(OPERATORS), max_size=8).map(" ".join),
    st.text(alphabet="abcdefghij", min_size=100, max_size=500),
    st.text(min_size=480, max_size=520),
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=hostile_queries, genre=st.one_of(st.none(), st.text(max_size=20)))
# Found by hand: words that fold to nothing once unaccent turns them into punctuation.
@example(q="\u02bc\u02bc", genre=None)
@example(q="rock \u0149\u0149", genre="\u02bc\u02bc")
@example(q="'':* & !x | (y <-> z)", genre=None)
@example(q='{title} : "a" NEAR(b c, 2) AND NOT d*', genre='"')
@example(q="\x00", genre="\x00")
async def test_no_query_string_causes_a_server_error(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn, q: str, genre: str | None
) -> None:
    # The same document every example (an upsert), so examples share one database harmlessly.
    await index(
        app, [document("AND OR NOT", subtitle="NEAR", keywords='"q" \\ 100%', ref_id=FUZZ_ID)]
    )
    params = {"q": q} if genre is None else {"q": q, "genre": genre}

    response = await client.get(SEARCH, params=params, headers=viewer.headers)

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        body = response.json()
        assert body["total"] >= len(body["items"])
    else:
        assert response.headers["content-type"] == PROBLEM

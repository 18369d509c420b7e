"""Result order: match tier, then field, then popularity; the same on both databases."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audotics.services.search import postgres_backend, query_plan
from audotics.services.search.schemas import DocumentKind
from tests.integration.search.support import document, index, search, titles
from tests.support.factories import SignedIn


async def test_exact_words_rank_above_prefixes_above_typos(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    # The weaker matches are far more popular, so only the tiers can explain the order.
    await index(
        app,
        [
            document("Heat Wave", popularity=90),  # one typo away from "beat"
            document("Beatbox Dreams", popularity=50),  # "beat" completed
            document("Beat It", popularity=1),  # the word itself
        ],
    )

    body = await search(client, viewer.headers, "beat")

    assert [item["title"] for item in body["items"]] == ["Beat It", "Beatbox Dreams", "Heat Wave"]
    assert [math.floor(item["score"]) for item in body["items"]] == [4, 2, 1]
    assert body["total"] == 3


async def test_a_phrase_ranks_above_the_same_words_apart(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("Road To Abbey", popularity=80),
            document("Abbey Road", popularity=10),
            document("Abbey Roadhouse", popularity=99),
        ],
    )

    body = await search(client, viewer.headers, "abbey road")

    assert [item["title"] for item in body["items"]] == [
        "Abbey Road",
        "Road To Abbey",
        "Abbey Roadhouse",
    ]
    assert [math.floor(item["score"]) for item in body["items"]] == [4, 3, 2]


async def test_title_matches_rank_above_subtitle_above_keyword_matches(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("Lithium", subtitle="Nirvana", keywords="Nevermind grunge", popularity=90),
            document("Teen Spirit", keywords="nirvana tribute", popularity=99),
            document("Nirvana", kind=DocumentKind.artist, keywords="grunge", popularity=1),
        ],
    )

    assert await titles(client, viewer.headers, "nirvana") == ["Nirvana", "Lithium", "Teen Spirit"]
    # The same holds for a typo, within its tier.
    assert await titles(client, viewer.headers, "nirvanna") == [
        "Nirvana",
        "Lithium",
        "Teen Spirit",
    ]


async def test_popularity_breaks_ties_and_order_is_total(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    docs = [
        document("Hallelujah", subtitle="Leonard Cohen", popularity=40),
        document("Hallelujah", subtitle="Jeff Buckley", popularity=95),
        document("Hallelujah", subtitle="Rufus Wainwright", popularity=40),
    ]
    await index(app, docs)

    body = await search(client, viewer.headers, "hallelujah")

    subtitles = [item["subtitle"] for item in body["items"]]
    assert subtitles[0] == "Jeff Buckley"
    assert sorted(subtitles[1:]) == ["Leonard Cohen", "Rufus Wainwright"]
    # Equal in everything: the order still never changes between calls.
    for _ in range(3):
        again = await search(client, viewer.headers, "hallelujah")
        assert [item["subtitle"] for item in again["items"]] == subtitles


async def test_beyond_the_ranking_window_matches_follow_by_popularity(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window of 3 stands in for the real one, so a dozen documents overflow it.
    monkeypatch.setattr(query_plan, "RANK_WINDOW", 3)
    exact = [document("Echo", popularity=p) for p in (1, 2, 3, 4, 5)]
    completed = [document("Echoes", popularity=p) for p in (10, 11, 12, 13, 14)]
    await index(app, exact + completed)

    ranked = ["Echo 5", "Echo 4", "Echo 3", "Echoes 14", "Echoes 13", "Echoes 12"]
    by_popularity = ["Echoes 11", "Echoes 10", "Echo 2", "Echo 1"]
    whole = await search(client, viewer.headers, "echo", limit=20)
    assert [f"{i['title']} {i['payload']['popularity']:g}" for i in whole["items"]] == (
        ranked + by_popularity
    )
    assert whole["total"] == 10
    paged = []
    for offset in range(0, 10, 4):
        page = await search(client, viewer.headers, "echo", limit=4, offset=offset)
        assert page["total"] == 10
        paged += [item["id"] for item in page["items"]]
    assert paged == [item["id"] for item in whole["items"]]


async def test_a_phrase_stays_within_one_field(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    # "creep" ends the title and "radiohead" starts the artist: all words, not a phrase.
    await index(app, [document("Creep", subtitle="Radiohead", keywords="Pablo Honey")])

    (across,) = (await search(client, viewer.headers, "creep radiohead"))["items"]
    (within,) = (await search(client, viewer.headers, "pablo honey"))["items"]
    assert math.floor(across["score"]) == 3
    assert math.floor(within["score"]) == 4


async def test_walking_by_popularity_finds_the_same_windows(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny sizes so both ways to fill a window run (PostgreSQL): the walk down the most
    # popular rows fills "other" but not "echo", which falls back to the GIN index.
    monkeypatch.setattr(query_plan, "DENSE_MATCHES", 0)
    monkeypatch.setattr(query_plan, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres_backend, "POPULAR_SCAN", 4)
    echoes = [document("Echo", popularity=p) for p in (1, 2, 3, 4, 5, 6)]
    others = [document("Other", popularity=p) for p in (10, 11, 12, 13, 14, 15)]
    await index(app, echoes + others)

    def popularity(body: dict[str, Any]) -> list[float]:
        return [item["payload"]["popularity"] for item in body["items"]]

    echo = await search(client, viewer.headers, "echo", limit=4)
    other = await search(client, viewer.headers, "other", limit=4)
    assert popularity(echo) == [6, 5, 4, 3] and echo["total"] == 6
    assert popularity(other) == [15, 14, 13, 12] and other["total"] == 6

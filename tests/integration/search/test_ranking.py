"""Result order: match tier, then field, then popularity; the same on both databases."""

from __future__ import annotations

import math

import httpx
from fastapi import FastAPI

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

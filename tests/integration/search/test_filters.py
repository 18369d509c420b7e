"""Kinds, audio features and genre: with text, or alone to browse by popularity; visibility."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from audotics.services.search.schemas import DocumentKind, SearchDocument
from tests.integration.search.support import document, index, search, titles
from tests.support.factories import SignedIn, sign_up


def _catalog() -> list[SearchDocument]:
    features = {"energy": 0.5, "danceability": 0.5, "valence": 0.5}
    return [
        document("Night Drive", keywords="synthwave", popularity=10, tempo_bpm=90, key="A",
                 mode="minor", **features),
        document("Night Fever", keywords="Saturday Night disco", popularity=80, tempo_bpm=110,
                 key="E", mode="minor", energy=0.9, danceability=0.95, valence=0.9),
        document("Night Train", keywords="blues", popularity=30, tempo_bpm=140, key="Db",
                 mode="Major", energy=0.7, danceability=0.4, valence=0.2),
        document("Nightcall", keywords="synthwave", popularity=50),  # not analysed yet
        document("Night", kind=DocumentKind.artist, keywords="synthwave", popularity=70),
        document("Night Songs", kind=DocumentKind.album, subtitle="Night", popularity=60),
    ]  # fmt: skip


async def test_kinds_filter(client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn) -> None:
    await index(app, _catalog())

    artists = await search(client, viewer.headers, "night", kinds="artist")
    assert [item["kind"] for item in artists["items"]] == ["artist"] and artists["total"] == 1
    both = await search(client, viewer.headers, "night", kinds="artist,album")
    assert sorted(item["kind"] for item in both["items"]) == ["album", "artist"]
    repeated = await client.get(
        "/api/v1/search", params=[("q", "night"), ("kinds", "album"), ("kinds", "artist")],
        headers=viewer.headers,
    )  # fmt: skip
    assert repeated.json()["total"] == 2
    assert (await search(client, viewer.headers, "night"))["total"] == 6


async def test_audio_feature_filters_combine_with_text(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(app, _catalog())
    h = viewer.headers

    assert await titles(client, h, "night", tempo_min=100, tempo_max=120) == ["Night Fever"]
    assert await titles(client, h, "night", tempo_min=100) == ["Night Fever", "Night Train"]
    assert await titles(client, h, "night", key="C#") == ["Night Train"]  # stored "Db"
    assert await titles(client, h, "night", key="db", mode="major") == ["Night Train"]
    assert await titles(client, h, "night", mode="minor") == ["Night Fever", "Night Drive"]
    assert await titles(client, h, "night", energy_min=0.6, valence_max=0.5) == ["Night Train"]
    assert await titles(client, h, "night", danceability_min=0.9) == ["Night Fever"]
    assert await titles(client, h, "night", energy_max=0.6, danceability_max=0.6) == ["Night Drive"]
    # Bounds are inclusive.
    assert await titles(client, h, "night", tempo_min=90, tempo_max=90) == ["Night Drive"]


async def test_genre_matches_keywords_only(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(app, _catalog())
    h = viewer.headers

    # "Nightcall" only completes the word, so it comes last despite its popularity.
    assert await titles(client, h, "night", genre="synthwave") == [
        "Night",
        "Night Drive",
        "Nightcall",
    ]
    assert await titles(client, h, "night", genre="Saturday Night") == ["Night Fever"]
    # "night" is in every title, yet only keywords count for the genre.
    assert await titles(client, h, "fever", genre="night") == ["Night Fever"]
    assert await titles(client, h, "drive", genre="disco") == []


async def test_filters_alone_browse_by_popularity(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(app, _catalog())
    h = viewer.headers

    assert await titles(client, h, "", mode="minor") == ["Night Fever", "Night Drive"]
    assert await titles(client, h, "", genre="synthwave") == ["Night", "Nightcall", "Night Drive"]
    body = await search(client, h, "  ", kinds="track", tempo_max=200)
    assert [item["title"] for item in body["items"]] == [
        "Night Fever",
        "Night Train",
        "Night Drive",
    ]
    assert all(item["score"] == 0 for item in body["items"]) and body["total"] == 3
    # Punctuation only is no text at all.
    assert await titles(client, h, "?!", kinds="album") == ["Night Songs"]
    # Neither text nor filters: nothing, rather than the whole catalogue.
    assert await search(client, h, "") == {
        "items": [], "total": 0, "limit": 20, "offset": 0, "next_offset": None,
    }  # fmt: skip


async def test_private_documents_are_found_by_their_owner_only(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    other = await sign_up(client, "someone-else")
    await index(
        app,
        [
            document("Bedroom Demo", owner_id=viewer.id, popularity=5),
            document("Bedroom Tapes", owner_id=other.id, popularity=9),
            document("Bedroom Pop Classics", popularity=1),
        ],
    )

    assert await titles(client, viewer.headers, "bedroom") == [
        "Bedroom Demo",
        "Bedroom Pop Classics",
    ]
    assert await titles(client, other.headers, "bedroom") == [
        "Bedroom Tapes",
        "Bedroom Pop Classics",
    ]
    assert await titles(client, other.headers, "bedroom demo") == []
    # Filter-only browsing respects visibility too.
    assert await titles(client, other.headers, "", kinds="track") == [
        "Bedroom Tapes",
        "Bedroom Pop Classics",
    ]

"""What a query finds: whole words, prefixes, typos, diacritics, several words; index upkeep."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from audotics.services.search.schemas import DocumentKind
from tests.integration.search.support import document, index, remove, search, titles
from tests.support.factories import SignedIn

ARTIST = DocumentKind.artist


async def test_indexed_documents_are_found_with_their_display_data(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    creep = document("Creep", subtitle="Radiohead", keywords="Pablo Honey alternative")
    await index(app, [creep, document("Karma Police", subtitle="Radiohead")])

    body = await search(client, viewer.headers, "creep")

    assert body["total"] == 1
    (item,) = body["items"]
    assert item["id"] == str(creep.ref_id) and item["kind"] == "track"
    assert item["title"] == "Creep" and item["subtitle"] == "Radiohead"
    assert item["payload"] == {"title": "Creep", "popularity": 0.0}
    assert item["score"] >= 4.0  # a whole-word match
    assert await titles(client, viewer.headers, "police") == ["Karma Police"]
    assert await titles(client, viewer.headers, "nothing-like-it") == []


async def test_indexing_again_replaces_the_document(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    original = document("Yesterday", subtitle="The Beatles", popularity=5)
    await index(app, [original])
    renamed = document("Tomorrow Never Knows", subtitle="The Beatles", ref_id=original.ref_id)
    await index(app, [renamed, renamed])  # duplicates in one call: the last wins

    assert await titles(client, viewer.headers, "yesterday") == []
    body = await search(client, viewer.headers, "beatles")
    assert body["total"] == 1
    assert [item["title"] for item in body["items"]] == ["Tomorrow Never Knows"]


async def test_removed_documents_are_gone(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    kept = document("Blue Monday", subtitle="New Order")
    dropped = document("Blue Lines", subtitle="Massive Attack")
    artist = document("Blue", kind=ARTIST)
    await index(app, [kept, dropped, artist])

    # Only the named kind is removed, and unknown ids are ignored.
    await remove(app, DocumentKind.track, [dropped.ref_id, artist.ref_id, document("x").ref_id])

    assert sorted(await titles(client, viewer.headers, "blue")) == ["Blue", "Blue Monday"]
    assert await titles(client, viewer.headers, "massive attack") == []


async def test_the_last_word_matches_as_a_prefix(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("The Beatles", kind=ARTIST),
            document("Radiohead", kind=ARTIST),
            document("Everything In Its Right Place", subtitle="Radiohead"),
        ],
    )

    assert await titles(client, viewer.headers, "beat") == ["The Beatles"]
    assert await titles(client, viewer.headers, "the bea") == ["The Beatles"]
    assert await titles(client, viewer.headers, "everything in its ri") == [
        "Everything In Its Right Place"
    ]
    # Only the last word is a prefix: "beat" must be whole when another word follows.
    assert await titles(client, viewer.headers, "beat the") == []


async def test_typos_are_tolerated_by_word_length(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("The Beatles", kind=ARTIST),
            document("Radiohead", kind=ARTIST),
            document("Yesterday", subtitle="The Beatles"),
            document("Love Me Do", subtitle="The Beatles"),
            document("Tea For Two"),
        ],
    )

    artists = {"kinds": "artist"}
    assert await titles(client, viewer.headers, "beatels", **artists) == ["The Beatles"]
    assert await titles(client, viewer.headers, "radiohed") == ["Radiohead"]  # a missing letter
    assert await titles(client, viewer.headers, "raidohed") == ["Radiohead"]  # 8+ letters: two
    assert await titles(client, viewer.headers, "yesturday beatles") == ["Yesterday"]
    assert await titles(client, viewer.headers, "lvoe me do") == ["Love Me Do"]
    # Under 4 letters no typo is allowed; under 8, one.
    assert await titles(client, viewer.headers, "tae for two") == []
    assert await titles(client, viewer.headers, "baetels", **artists) == []
    assert await titles(client, viewer.headers, "rdaiohed") == ["Radiohead"]
    assert await titles(client, viewer.headers, "rdaiohd") == []


async def test_diacritics_and_case_are_ignored_both_ways(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("Björk", kind=ARTIST),
            document("Sigur Ros", kind=ARTIST),
            document("Mötley Crüe", kind=ARTIST),
        ],
    )

    assert await titles(client, viewer.headers, "bjork") == ["Björk"]
    assert await titles(client, viewer.headers, "BJÖRK") == ["Björk"]
    assert await titles(client, viewer.headers, "Bjo\u0308rk") == ["Björk"]  # decomposed ö
    assert await titles(client, viewer.headers, "sigur rós") == ["Sigur Ros"]
    assert await titles(client, viewer.headers, "motley crue") == ["Mötley Crüe"]


async def test_every_word_must_match_in_some_field(
    client: httpx.AsyncClient, app: FastAPI, viewer: SignedIn
) -> None:
    await index(
        app,
        [
            document("Creep", subtitle="Radiohead", keywords="Pablo Honey"),
            document("Creep", subtitle="TLC", keywords="CrazySexyCool"),
            document("AC/DC", kind=ARTIST, keywords="hard-rock"),
        ],
    )

    assert await titles(client, viewer.headers, "radiohead creep") == ["Creep"]
    assert await titles(client, viewer.headers, "creep pablo honey") == ["Creep"]
    assert await titles(client, viewer.headers, "creep zebra") == []
    # Punctuation separates words the same way in documents and queries.
    assert await titles(client, viewer.headers, "ac dc") == ["AC/DC"]
    assert await titles(client, viewer.headers, "AC/DC hard rock") == ["AC/DC"]

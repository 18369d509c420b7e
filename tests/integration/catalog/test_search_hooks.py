"""Catalog changes reach the search index in the same transaction."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from audotics.services.search import service as search
from audotics.services.search.schemas import DocumentKind, SearchHit, SearchQuery
from tests.integration.catalog.conftest import create_track
from tests.support.factories import SignedIn

API = "/api/v1"


async def _find(
    app: FastAPI, text: str, viewer: uuid.UUID | None, kind: DocumentKind | None = None
) -> list[SearchHit]:
    query = SearchQuery(text=text, kinds=[kind] if kind else None)
    async with app.state.infra.db.session() as session:
        return (await search.search(session, query, viewer)).hits


async def test_created_tracks_artists_and_albums_are_found(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn, listener: SignedIn
) -> None:
    public = await create_track(
        client,
        curator,
        "Moonlight Sonata",
        artist="Ludwig Beethoven",
        album="Piano Works",
        genres=["Classical"],
    )
    private = await create_track(client, listener, "Moonlight Demo", artist="Garage Band")

    hits = await _find(app, "moonlight sonata", curator.id, DocumentKind.track)
    assert [hit.id for hit in hits] == [uuid.UUID(public["id"])]
    payload = hits[0].payload
    assert payload["artist_name"] == "Ludwig Beethoven" and payload["album_title"] == "Piano Works"
    assert payload["genres"] == ["Classical"] and hits[0].subtitle == "Ludwig Beethoven"
    artists = await _find(app, "beethoven", curator.id, DocumentKind.artist)
    assert [hit.id for hit in artists] == [uuid.UUID(public["artist"]["id"])]
    albums = await _find(app, "piano works", curator.id, DocumentKind.album)
    assert [hit.id for hit in albums] == [uuid.UUID(public["album"]["id"])]

    # A private upload is found by its owner only.
    own = await _find(app, "moonlight demo", listener.id, DocumentKind.track)
    assert uuid.UUID(private["id"]) in [hit.id for hit in own]
    others = await _find(app, "moonlight demo", curator.id, DocumentKind.track)
    assert uuid.UUID(private["id"]) not in [hit.id for hit in others]


async def test_renames_and_deletes_update_the_index(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn
) -> None:
    track = await create_track(
        client, curator, "Windowlicker", artist="Aphex Twin", album="Warp Singles"
    )
    artist_id, album_id = track["artist"]["id"], track["album"]["id"]
    assert len(await _find(app, "aphex", curator.id, DocumentKind.artist)) == 1
    renamed = await client.patch(
        f"{API}/artists/{artist_id}", json={"name": "Richard James"}, headers=curator.headers
    )
    assert renamed.status_code == 200
    assert await _find(app, "aphex", curator.id) == []
    (hit,) = await _find(app, "windowlicker", curator.id, DocumentKind.track)
    assert hit.subtitle == "Richard James" and hit.payload["artist_name"] == "Richard James"
    (album_hit,) = await _find(app, "richard james", curator.id, DocumentKind.album)
    assert album_hit.id == uuid.UUID(album_id)

    regenred = await client.patch(
        f"{API}/tracks/{track['id']}", json={"genres": ["Braindance"]}, headers=curator.headers
    )
    assert regenred.status_code == 200
    (by_genre,) = await _find(app, "braindance", curator.id, DocumentKind.track)
    assert by_genre.payload["genres"] == ["Braindance"]

    assert len(await _find(app, "warp singles", curator.id, DocumentKind.album)) == 1
    await client.delete(f"{API}/albums/{album_id}", headers=curator.headers)
    assert await _find(app, "warp singles", curator.id, DocumentKind.album) == []
    (kept,) = await _find(app, "windowlicker", curator.id, DocumentKind.track)
    assert kept.payload["album_id"] is None

    await client.delete(f"{API}/tracks/{track['id']}", headers=curator.headers)
    assert await _find(app, "windowlicker", curator.id) == []
    assert len(await _find(app, "richard james", curator.id, DocumentKind.artist)) == 1
    await client.delete(f"{API}/artists/{artist_id}", headers=curator.headers)
    assert await _find(app, "richard james", curator.id) == []

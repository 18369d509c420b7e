"""Artists, albums and tracks over HTTP: roles, private libraries, names, filters, caching."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.catalog.conftest import assert_problem, create_track
from tests.support.factories import SignedIn

API = "/api/v1"


async def test_track_by_names_finds_or_creates_artist_and_album(
    client: httpx.AsyncClient, curator: SignedIn
) -> None:
    first = await create_track(
        client,
        curator,
        "Come Together",
        artist="The Beatles",
        album="Abbey Road",
        genres=["Rock", " rock ", "Classic Rock"],
        track_number=1,
        isrc="gb-aye-69-00001",
    )
    assert first["visibility"] == "public" and first["owner_id"] is None
    assert first["genres"] == ["Classic Rock", "Rock"]
    assert first["isrc"] == "GBAYE6900001"
    second = await create_track(client, curator, "Something", artist="beatles", album="ABBEY ROAD")
    assert second["artist"] == first["artist"]
    assert second["album"] == first["album"]
    assert first["artist"]["name"] == "The Beatles"

    artists = (await client.get(f"{API}/artists", headers=curator.headers)).json()
    assert [a["name"] for a in artists["items"]] == ["The Beatles"]
    albums = await client.get(
        f"{API}/albums", params={"artist_id": first["artist"]["id"]}, headers=curator.headers
    )
    assert [a["title"] for a in albums.json()["items"]] == ["Abbey Road"]


async def test_listener_cannot_touch_public_catalog(
    client: httpx.AsyncClient, listener: SignedIn, curator: SignedIn
) -> None:
    headers = listener.headers
    artist = await client.post(f"{API}/artists", json={"name": "X"}, headers=headers)
    assert_problem(artist, 403)
    album = await client.post(f"{API}/albums", json={"title": "Y", "artist": "X"}, headers=headers)
    assert_problem(album, 403)
    public = await client.post(
        f"{API}/tracks",
        json={"title": "Z", "artist": "X", "visibility": "public"},
        headers=headers,
    )
    assert_problem(public, 403)

    curated = await create_track(client, curator, "Curated")
    patch = await client.patch(
        f"{API}/tracks/{curated['id']}", json={"title": "Mine now"}, headers=headers
    )
    assert_problem(patch, 403)
    assert_problem(await client.delete(f"{API}/tracks/{curated['id']}", headers=headers), 403)
    unchanged = await client.get(f"{API}/tracks/{curated['id']}", headers=headers)
    assert unchanged.json()["title"] == "Curated"


async def test_private_tracks_are_invisible_to_everyone_else(
    client: httpx.AsyncClient, listener: SignedIn, stranger: SignedIn, curator: SignedIn
) -> None:
    mine = await create_track(client, listener, "Demo Take", artist="Garage Band")
    assert mine["visibility"] == "private"
    assert mine["owner_id"] == str(listener.id)
    url = f"{API}/tracks/{mine['id']}"
    for user in (stranger, curator):
        assert_problem(await client.get(url, headers=user.headers), 404)
        assert_problem(await client.patch(url, json={"title": "x"}, headers=user.headers), 404)
        assert_problem(await client.delete(url, headers=user.headers), 404)
        listed = await client.get(f"{API}/tracks", headers=user.headers)
        assert listed.json()["total"] == 0

    own = await client.get(f"{API}/tracks", params={"scope": "mine"}, headers=listener.headers)
    assert [t["id"] for t in own.json()["items"]] == [mine["id"]]
    public_only = await client.get(
        f"{API}/tracks", params={"scope": "public"}, headers=listener.headers
    )
    assert public_only.json()["total"] == 0
    renamed = await client.patch(url, json={"title": "Final Take"}, headers=listener.headers)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Final Take"
    assert (await client.delete(url, headers=listener.headers)).status_code == 204
    assert_problem(await client.get(url, headers=listener.headers), 404)


async def test_artist_lifecycle(client: httpx.AsyncClient, curator: SignedIn) -> None:
    headers = curator.headers
    created = await client.post(
        f"{API}/artists", json={"name": "Sigur Rós", "genres": ["Post-Rock"]}, headers=headers
    )
    assert created.status_code == 201
    artist = created.json()
    assert created.headers["location"].endswith(f"/artists/{artist['id']}")
    assert artist["genres"] == ["Post-Rock"]

    duplicate = await client.post(f"{API}/artists", json={"name": "sigur ros"}, headers=headers)
    assert assert_problem(duplicate, 409)["artist_id"] == artist["id"]

    renamed = await client.patch(
        f"{API}/artists/{artist['id']}",
        json={"name": "Sigur Ros", "genres": ["ambient", "post rock"]},
        headers=headers,
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Sigur Ros"
    assert renamed.json()["genres"] == ["ambient", "Post-Rock"]  # "post rock" is Post-Rock

    by_prefix = await client.get(f"{API}/artists", params={"q": "sig"}, headers=headers)
    assert by_prefix.json()["total"] == 1
    by_genre = await client.get(f"{API}/artists", params={"genre": "AMBIENT"}, headers=headers)
    assert by_genre.json()["total"] == 1
    other_genre = await client.get(f"{API}/artists", params={"genre": "jazz"}, headers=headers)
    assert other_genre.json()["total"] == 0

    track = await create_track(client, curator, "Hoppípolla", artist_id=artist["id"])
    blocked = await client.delete(f"{API}/artists/{artist['id']}", headers=headers)
    assert_problem(blocked, 409)
    assert (await client.delete(f"{API}/tracks/{track['id']}", headers=headers)).status_code == 204
    assert (
        await client.delete(f"{API}/artists/{artist['id']}", headers=headers)
    ).status_code == 204
    assert_problem(await client.get(f"{API}/artists/{artist['id']}", headers=headers), 404)


async def test_album_lifecycle_keeps_tracks(client: httpx.AsyncClient, curator: SignedIn) -> None:
    headers = curator.headers
    created = await client.post(
        f"{API}/albums",
        json={"title": "Kid A", "artist": "Radiohead", "release_year": 2000},
        headers=headers,
    )
    assert created.status_code == 201
    album = created.json()
    assert album["artist"]["name"] == "Radiohead" and album["release_year"] == 2000

    track = await create_track(
        client, curator, "Idioteque", artist_id=album["artist"]["id"], album_id=album["id"]
    )
    assert track["album"] == {"id": album["id"], "title": "Kid A"}
    retitled = await client.patch(
        f"{API}/albums/{album['id']}",
        json={"title": "Kid A Mnesia", "release_year": None},
        headers=headers,
    )
    assert retitled.json()["title"] == "Kid A Mnesia" and retitled.json()["release_year"] is None
    shown = await client.get(f"{API}/tracks/{track['id']}", headers=headers)
    assert shown.json()["album"]["title"] == "Kid A Mnesia"

    assert (await client.delete(f"{API}/albums/{album['id']}", headers=headers)).status_code == 204
    kept = await client.get(f"{API}/tracks/{track['id']}", headers=headers)
    assert kept.status_code == 200 and kept.json()["album"] is None


async def test_track_updates_and_validation(client: httpx.AsyncClient, curator: SignedIn) -> None:
    headers = curator.headers
    track = await create_track(client, curator, "Draft", album="Sessions", genres=["jazz"])
    url = f"{API}/tracks/{track['id']}"
    changed = await client.patch(
        url,
        json={
            "title": "Final",
            "artist": "New Artist",
            "album_id": None,
            "track_number": 7,
            "genres": [],
        },
        headers=headers,
    )
    body = changed.json()
    assert changed.status_code == 200, changed.text
    assert (body["title"], body["artist"]["name"], body["album"]) == ("Final", "New Artist", None)
    assert body["track_number"] == 7 and body["genres"] == []

    bad_bodies = [
        {"isrc": "not-an-isrc"},
        {"title": None},
        {"title": "   "},
        {"title": "nul\x00byte"},
        {"artist_id": str(uuid.uuid4())},
        {"album_id": str(uuid.uuid4())},
        {"artist": "A", "artist_id": track["artist"]["id"]},
        {"duration_s": -1},
        {"unknown": 1},
    ]
    for bad in bad_bodies:
        assert_problem(await client.patch(url, json=bad, headers=headers), 422)
    assert_problem(
        await client.post(f"{API}/tracks", json={"title": "No artist"}, headers=headers), 422
    )
    assert (await client.get(url, headers=headers)).json()["title"] == "Final"


async def test_list_filters_and_pagination(client: httpx.AsyncClient, curator: SignedIn) -> None:
    headers = curator.headers
    one = await create_track(client, curator, "B side", album="LP", track_number=2)
    two = await create_track(client, curator, "A side", album="LP", track_number=1)
    await create_track(client, curator, "Loose", artist="Other", genres=["Dub"])
    album_id = one["album"]["id"]

    in_album = await client.get(f"{API}/tracks", params={"album_id": album_id}, headers=headers)
    assert [t["id"] for t in in_album.json()["items"]] == [two["id"], one["id"]]
    by_artist = await client.get(
        f"{API}/tracks", params={"artist_id": one["artist"]["id"]}, headers=headers
    )
    assert by_artist.json()["total"] == 2
    by_genre = await client.get(f"{API}/tracks", params={"genre": "dub"}, headers=headers)
    assert [t["title"] for t in by_genre.json()["items"]] == ["Loose"]

    first_page = await client.get(f"{API}/tracks", params={"limit": 2}, headers=headers)
    page = first_page.json()
    assert (len(page["items"]), page["total"], page["next_offset"]) == (2, 3, 2)
    last_page = await client.get(f"{API}/tracks", params={"limit": 2, "offset": 2}, headers=headers)
    assert last_page.json()["next_offset"] is None
    assert_problem(await client.get(f"{API}/tracks", params={"limit": 0}, headers=headers), 422)
    assert_problem(
        await client.get(f"{API}/tracks", params={"genre": "a\x00"}, headers=headers), 422
    )
    genres = await client.get(f"{API}/genres", headers=headers)
    assert [g["name"] for g in genres.json()["items"]] == ["Dub"]


@pytest.mark.parametrize("kind", ["tracks", "artists", "albums"])
async def test_unknown_and_malformed_ids(
    client: httpx.AsyncClient, listener: SignedIn, kind: str
) -> None:
    assert_problem(await client.get(f"{API}/{kind}/{uuid.uuid4()}", headers=listener.headers), 404)
    assert_problem(await client.get(f"{API}/{kind}/not-a-uuid", headers=listener.headers), 422)
    assert_problem(await client.get(f"{API}/{kind}/{uuid.uuid4()}"), 401)


async def test_reads_carry_etags_that_follow_changes(
    client: httpx.AsyncClient, curator: SignedIn
) -> None:
    track = await create_track(client, curator, "Cached", artist="Before")
    url = f"{API}/tracks/{track['id']}"
    first = await client.get(url, headers=curator.headers)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and "private" in first.headers["cache-control"]
    cached = await client.get(url, headers={**curator.headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag

    # Renaming the artist changes what the track shows, so its tag must change too.
    await client.patch(
        f"{API}/artists/{track['artist']['id']}", json={"name": "After"}, headers=curator.headers
    )
    fresh = await client.get(url, headers={**curator.headers, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json()["artist"]["name"] == "After"
    listing = await client.get(f"{API}/tracks", headers=curator.headers)
    again = await client.get(
        f"{API}/tracks", headers={**curator.headers, "If-None-Match": listing.headers["etag"]}
    )
    assert again.status_code == 304

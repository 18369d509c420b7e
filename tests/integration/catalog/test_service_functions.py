"""The catalog functions other services and importers call."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from audotics.infra.objects.base import ObjectStore
from audotics.problems import Unprocessable
from audotics.services.catalog import repository as catalog_repository
from audotics.services.catalog import service as catalog
from audotics.services.catalog.convert import track_summary
from tests.integration.catalog.conftest import create_track
from tests.support.audio import encode
from tests.support.factories import SignedIn

API = "/api/v1"


async def test_find_or_create_by_name(app: FastAPI) -> None:
    async with app.state.infra.db.session() as session:
        first = await catalog.find_or_create_artist(session, "The Notwist")
        again = await catalog.find_or_create_artist(session, "  notwist ")
        album = await catalog.find_or_create_album(session, first.id, "Neon Golden")
        same_album = await catalog.find_or_create_album(session, first.id, "neon golden")
        genre = await catalog.find_or_create_genre(session, "Indie-Tronica")
        same_genre = await catalog.find_or_create_genre(session, "indie tronica")
        track = await catalog.find_or_create_track(
            session, artist="notwist", title="Pilot", album="Neon Golden", duration_s=283.0
        )
        same_track = await catalog.find_or_create_track(
            session, artist="The Notwist", title="PILOT"
        )
        with pytest.raises(Unprocessable):
            await catalog.find_or_create_artist(session, " \x00 ")
        with pytest.raises(Unprocessable):
            await catalog.find_or_create_track(session, artist="notwist", title="\t")
    assert first == again and first.name == "The Notwist"
    assert album == same_album and genre == same_genre
    assert track == same_track
    assert track.artist == first and track.album == album and track.duration_s == 283.0


async def test_get_tracks_and_visibility(
    client: httpx.AsyncClient, app: FastAPI, listener: SignedIn, curator: SignedIn
) -> None:
    public = await create_track(client, curator, "Open", album="LP", genres=["Pop"])
    private = await create_track(client, listener, "Closed")
    ids = [uuid.UUID(public["id"]), uuid.UUID(private["id"]), uuid.uuid4()]
    async with app.state.infra.db.session() as session:
        for_owner = await catalog.get_tracks(session, ids, listener.id)
        for_curator = await catalog.get_tracks(session, ids, curator.id)
        for_nobody = await catalog.get_tracks(session, ids, None)
        visible = [await catalog.track_visible(session, i, curator.id) for i in ids]
    assert set(for_owner) == set(ids[:2])
    assert set(for_curator) == set(for_nobody) == {ids[0]}
    summary = for_owner[ids[0]]
    assert (summary.title, summary.genres, summary.has_audio) == ("Open", ["Pop"], False)
    assert summary.album is not None and summary.album.title == "LP"
    assert visible == [True, False, False]


async def test_get_tracks_reads_what_the_orm_summary_shows(
    client: httpx.AsyncClient, app: FastAPI, listener: SignedIn, curator: SignedIn
) -> None:
    """The column read behind get_tracks gives the summary the ORM rows give: genres in
    name_key order (not insertion or display order), album or none, audio or none,
    private tracks for their owner only, duplicates and unknown ids dropped."""
    tagged = await create_track(
        client, curator, "Tagged", album="LP", genres=["zydeco", "Ambient", "dub", "Ambient 2"]
    )
    bare = await create_track(client, curator, "Bare", duration_s=61.5)
    own = await create_track(client, listener, "Own", genres=["Lo-Fi"])
    response = await client.put(
        f"{API}/tracks/{bare['id']}/audio",
        content=encode("wav"),
        headers={**curator.headers, "Content-Type": "audio/wav"},
    )
    assert response.status_code == 200
    known = [uuid.UUID(t["id"]) for t in (tagged, bare, own)]
    asked = [*known, known[0], uuid.uuid4()]
    async with app.state.infra.db.session() as session:
        for viewer in (listener.id, curator.id, None):
            found = await catalog.get_tracks(session, asked, viewer)
            tracks = await catalog_repository.tracks_by_ids(session, known, viewer)
            assert found == {track.id: track_summary(track) for track in tracks}
        for_owner = await catalog.get_tracks(session, asked, listener.id)
    assert set(for_owner) == set(known)
    assert for_owner[known[0]].genres == ["Ambient", "Ambient 2", "dub", "zydeco"]
    assert for_owner[known[1]].album is None and for_owner[known[1]].has_audio
    assert for_owner[known[2]].genres == ["Lo-Fi"]


async def test_get_tracks_past_one_statements_parameters(
    client: httpx.AsyncClient, app: FastAPI, curator: SignedIn
) -> None:
    """More ids than one statement may bind (asyncpg: 32,767) are read in chunks: the
    serving state asks for every track at once."""
    created = [uuid.UUID((await create_track(client, curator, f"T{i}"))["id"]) for i in range(3)]
    unknown = [uuid.uuid4() for _ in range(33_000)]
    asked = [unknown[0], created[0], *unknown[1:20_000], created[1], *unknown[20_000:], created[2]]
    async with app.state.infra.db.session() as session:
        found = await catalog.get_tracks(session, asked, None)
    assert set(found) == set(created)


async def test_export_and_delete_user_data(
    client: httpx.AsyncClient,
    app: FastAPI,
    listener: SignedIn,
    curator: SignedIn,
    objects: ObjectStore,
) -> None:
    private = await create_track(client, listener, "Mine")
    public = await create_track(client, curator, "Everyone's")
    for track, user in ((private, listener), (public, curator)):
        response = await client.put(
            f"{API}/tracks/{track['id']}/audio",
            content=encode("wav"),
            headers={**user.headers, "Content-Type": "audio/wav"},
        )
        assert response.status_code == 200
    async with app.state.infra.db.session() as session:
        exported = await catalog.export_user_data(session, listener.id)
    assert [t["id"] for t in exported["private_tracks"]] == [private["id"]]
    assert exported["private_tracks"][0]["audio"]["format"] == "wav"

    async with app.state.infra.db.session() as session:
        await catalog.delete_user_data(session, listener.id, objects=objects)
    gone = await client.get(f"{API}/tracks/{private['id']}", headers=listener.headers)
    assert gone.status_code == 404
    assert [info.key.split("/")[1] for info in await objects.list("audio/")] == [public["id"]]
    async with app.state.infra.db.session() as session:
        assert await catalog.export_user_data(session, listener.id) == {"private_tracks": []}
        # Nothing is orphaned; a zero grace period would otherwise collect it.
        assert await catalog.purge_orphaned_audio(session, objects, older_than_s=0) == 0
    await objects.put("audio/stray/leftover.wav", b"RIFF")
    async with app.state.infra.db.session() as session:
        assert await catalog.purge_orphaned_audio(session, objects, older_than_s=0) == 1
    assert len(await objects.list("audio/")) == 1

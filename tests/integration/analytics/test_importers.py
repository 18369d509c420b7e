"""Importing ListenBrainz, scrobble-CSV and generic-CSV files: matching, bad rows, idempotency.

The files are written here, small and by hand; each test runs on both databases.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audotics.config import Settings
from audotics.importers import IMPORTED_EMAIL_DOMAIN, imported_username, run_import
from audotics.problems import BadRequest, NotFound
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind, ListenEvent, ListenIn
from audotics.services.catalog import service as catalog
from audotics.services.users import service as users
from tests.integration.analytics.support import (
    history,
    interactions,
    make_user,
    session_of,
    user_id,
)

T0 = datetime(2023, 5, 1, 20, 0, tzinfo=UTC)


def _epoch(minutes: int) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp())


def _listen(artist: str, track: str, minutes: int, **extra: object) -> dict[str, object]:
    meta = {"artist_name": artist, "track_name": track, "additional_info": {"duration_ms": 200000}}
    return {"listened_at": _epoch(minutes), "track_metadata": meta, **extra}


async def test_listenbrainz_jsonl_matches_names_and_reimports_as_a_no_op(
    settings: Settings, tmp_path: Path
) -> None:
    owner = await make_user(settings, "lena")
    lines = [
        json.dumps(_listen("The Beatles", "Hey Jude", 0, user_name="someone-else")),
        json.dumps(_listen("beatles", "hey  jude", 5)),  # the same track, spelled otherwise
        json.dumps(_listen("Björk", "Jóga", 9)),
        "{not json",
        json.dumps({"track_metadata": {"artist_name": "X", "track_name": "Y"}}),  # playing now
        "",
    ]
    path = tmp_path / "listens.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")

    report = await run_import(settings, path, "listenbrainz", username="lena")
    assert (report.rows, report.bad_rows) == (3, 2)
    assert {issue.line for issue in report.issues} == {4, 5}
    assert (report.listens_new, report.tracks) == (3, 2)

    stored = await history(settings, owner)  # every listen is --user's, whatever user_name says
    assert [(item.track.title if item.track else None) for item in stored] == [
        "Jóga",
        "Hey Jude",
        "Hey Jude",
    ]
    assert all(item.source == "import:listenbrainz" for item in stored)
    assert stored[0].occurred_at == T0 + timedelta(minutes=9)
    hey_jude = stored[1].track
    assert hey_jude is not None and hey_jude.duration_s == 200.0
    (top, *_) = sorted(
        await interactions(settings, ItemKind.track, owner), key=lambda row: -row.plays
    )
    assert (top.item_id, top.plays) == (hey_jude.id, 2)

    again = await run_import(settings, path, "listenbrainz", username="lena")
    assert (again.listens_new, again.listens_duplicate) == (0, 3)
    assert len(await history(settings, owner)) == 3

    # The API derives the same key: the imported listen is a duplicate there too.
    async with session_of(settings) as session:
        sent = ListenIn(
            track_id=hey_jude.id, event=ListenEvent.play, occurred_at=T0 + timedelta(minutes=5)
        )
        recorded = await analytics.record_listens(session, owner, [sent])
    assert (recorded.new, recorded.duplicates) == (0, 1)


async def test_listenbrainz_needs_an_existing_user(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "listens.json"
    path.write_text(json.dumps([_listen("A", "B", 0)]), encoding="utf-8")
    with pytest.raises(BadRequest, match="--user is required"):
        await run_import(settings, path, "listenbrainz")
    with pytest.raises(NotFound, match="nobody"):
        await run_import(settings, path, "listenbrainz", username="nobody")
    with pytest.raises(BadRequest, match="not a file"):
        await run_import(settings, tmp_path / "missing.json", "listenbrainz", username="x")


async def test_scrobble_csv_with_bad_rows(settings: Settings, tmp_path: Path) -> None:
    owner = await make_user(settings, "sam")
    path = tmp_path / "scrobbles.csv"
    path.write_text(
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
        f"{_epoch(0)},,Radiohead,,OK Computer,,Airbag,\n"
        f"{_epoch(4)},,Radiohead,,OK Computer,,Paranoid Android,\n"
        "not-a-time,,Radiohead,,OK Computer,,Airbag,\n"
        f"{_epoch(8)},,,,,,Nameless,\n"
        f"{_epoch(12)},,RADIOHEAD,,,,airbag,\n",
        encoding="utf-8",
    )
    report = await run_import(settings, path, "scrobble-csv", username="sam")
    assert (report.rows, report.bad_rows, report.listens_new) == (3, 2, 3)
    assert sorted(issue.line for issue in report.issues) == [4, 5]
    async with session_of(settings) as session:
        airbag = await catalog.find_track(session, artist="radiohead", title="AIRBAG")
        stats = await analytics.listening_stats(session, owner)
    assert airbag is not None
    assert stats.top_tracks[0].track_id == airbag.id
    assert stats.top_tracks[0].plays == 2
    assert [(a.name, a.plays) for a in stats.top_artists] == [("Radiohead", 3)]
    assert stats.hours[20] == 3


async def test_generic_csv_makes_imported_accounts_and_counts(
    settings: Settings, tmp_path: Path
) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    path = tmp_path / "plays.csv"
    rows = [
        "user_id,artist,track,timestamp,count",
        f"bob,Massive Attack,Teardrop,{T0.isoformat()},2",  # two listens at one instant
        f"bob,Massive Attack,Angel,{_epoch(10)},",
        "Alice Smith,Portishead,Roads,,7",  # no time: a play count
        "Alice Smith,Portishead,Roads,,3",  # the file's total for Roads is 10
        "bob,Massive Attack,Angel,,0",  # bad count
        "bob,Massive Attack,Angel,yesterday,1",  # bad time
        f"bob,Massive Attack,Angel,{future},1",  # too far ahead
        "carol,Portishead,Glory Box,,1",  # a real account already holds imp-carol
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # Someone signed up as imp-carol, even with the importers' email domain: not imported.
    await make_user(settings, "imp-carol", f"imp-carol@{IMPORTED_EMAIL_DOMAIN}")

    report = await run_import(settings, path, "csv")
    assert (report.rows, report.bad_rows) == (4, 4)
    assert report.listens_new == 3
    assert report.users_created == 2
    assert any("no import created" in issue.reason for issue in report.issues)

    async with session_of(settings) as session:
        bob = await users.get_user_by_username(session, "imp-bob")
        alice_name = imported_username("imp", "Alice Smith")
        alice = await users.get_user_by_username(session, alice_name)
        carol = await users.get_user_by_username(session, "imp-carol")
        carols = await analytics.interactions(session, ItemKind.track, carol.id)
        exported = await analytics.export_user_data(session, alice.id)
    assert exported["imported_as"] == {"source": "import:csv", "external_id": "Alice Smith"}
    assert alice_name.startswith("imp-alice-smith-") and len(alice_name) <= 32
    assert bob.email == f"imp-bob@{IMPORTED_EMAIL_DOMAIN}"
    assert bob.role == "listener"
    assert carols == []  # nothing went to the real account
    assert len(await history(settings, bob.id)) == 3
    assert await history(settings, alice.id) == []
    (roads,) = await interactions(settings, ItemKind.track, alice.id)
    (portishead,) = await interactions(settings, ItemKind.artist, alice.id)
    assert (roads.plays, portishead.plays) == (10, 10)

    again = await run_import(settings, path, "csv")
    assert (again.listens_new, again.counts_written, again.users_created) == (0, 0, 0)
    assert again.counts_unchanged == 2
    (roads,) = await interactions(settings, ItemKind.track, alice.id)
    assert roads.plays == 10

    # A newer export's total replaces the old one instead of adding to it.
    path.write_text(rows[0] + "\nAlice Smith,Portishead,Roads,,12\n", encoding="utf-8")
    newer = await run_import(settings, path, "csv")
    assert newer.counts_written == 2
    (roads,) = await interactions(settings, ItemKind.track, alice.id)
    (portishead,) = await interactions(settings, ItemKind.artist, alice.id)
    assert (roads.plays, portishead.plays) == (12, 12)


async def test_generic_csv_under_one_user_and_a_bad_header(
    settings: Settings, tmp_path: Path
) -> None:
    owner = await make_user(settings, "dana")
    path = tmp_path / "mine.csv"
    path.write_text(
        f"user_id,artist,track,timestamp\nx,Air,La Femme d'Argent,{_epoch(0)}\n"
        f"y,Air,Sexy Boy,{_epoch(1)}\n",
        encoding="utf-8",
    )
    report = await run_import(settings, path, "csv", username="dana")
    assert (report.rows, report.users_created, report.listens_new) == (2, 0, 2)
    assert len(await history(settings, owner)) == 2
    with pytest.raises(NotFound):
        await user_id(settings, "imp-x")

    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,2\n", encoding="utf-8")
    report = await run_import(settings, bad, "csv")
    assert (report.rows, report.bad_rows) == (0, 1)
    assert "header" in report.issues[0].reason


def test_imported_usernames_are_valid_and_distinct() -> None:
    names = [imported_username("imp", raw) for raw in ("bob", "Bob", "b o b", "!!!", "x" * 80)]
    assert names[0] == "imp-bob"
    assert len(set(names)) == len(names)
    for name in names:
        assert 3 <= len(name) <= 32
        assert all(c.isdigit() or c in "abcdefghijklmnopqrstuvwxyz-_" for c in name), name

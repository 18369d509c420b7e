"""Dataset parsers on small hand-written inputs, bad rows included."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audotics.ml.datasets import (
    ListenRecord,
    ParseIssue,
    from_records,
    item_key,
    iter_generic_csv,
    iter_listenbrainz,
    iter_scrobble_csv,
    load_interactions,
    normalize_name,
    parse_time,
    partition,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "listenbrainz-export.jsonl"


def _listen(user: str, artist: str, track: str, when: object) -> dict[str, object]:
    return {
        "listened_at": when,
        "user_name": user,
        "track_metadata": {
            "artist_name": artist,
            "track_name": track,
            "additional_info": {"duration_ms": 200000},
        },
    }


def test_normalisation_matches_case_width_and_spacing() -> None:
    assert normalize_name("  Sigur  Rós ") == "sigur rós"
    assert normalize_name("\uff21\uff22\uff22\uff21") == "abba"  # full-width letters (NFKC)
    assert normalize_name("Straße") == normalize_name("STRASSE")  # case-folding
    assert item_key("Muse", " Hysteria\t") == item_key("MUSE", "hysteria") == "muse\thysteria"
    assert item_key("Muse", None) == "muse"


def test_parse_time_accepts_epoch_iso_and_lastfm_dates() -> None:
    expected = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_time(1704067200) == expected
    assert parse_time("1704067200") == expected
    assert parse_time(1704067200000) == expected  # milliseconds
    assert parse_time("2024-01-01T00:00:00Z") == expected
    assert parse_time("2024-01-01T01:00:00+01:00") == expected
    assert parse_time("01 Jan 2024 00:00") == expected
    assert parse_time("01 Jan 2024, 00:00") == expected
    for bad in ("yesterday", "", -5, True):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_listenbrainz_fixture_counts_bad_rows() -> None:
    records, issues = partition(iter_listenbrainz(FIXTURE))
    assert len(records) == 42
    assert [issue.line for issue in issues] == [43, 44, 45]
    assert "invalid JSON" in issues[0].reason
    assert "track_name" in issues[1].reason
    assert "listened_at" in issues[2].reason
    first = records[0]
    assert first == ListenRecord(
        user="alice",
        artist="Radiohead",
        track="Paranoid Android",
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        duration_s=387.0,
    )
    iso = [r for r in records if r.user == "dave" and r.artist.strip() == "MUSE"]
    assert iso[0].timestamp == datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_listenbrainz_array_is_streamed_and_resyncs_after_a_bad_element(tmp_path: Path) -> None:
    good = [json.dumps(_listen("ann", "Björk", f"Song {i}", 1700000000 + i)) for i in range(3)]
    text = (
        "[\n" + ",\n".join([good[0], '{"listened_at": 5, "track_metadata": ]', *good[1:]]) + "\n]"
    )
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    records, issues = partition(iter_listenbrainz(path))
    assert [r.track for r in records] == ["Song 0", "Song 1", "Song 2"]
    assert len(issues) == 1 and issues[0].line == 2


def test_listenbrainz_wrapped_payload_and_zip_archive(tmp_path: Path) -> None:
    page = {"payload": {"count": 2, "listens": [_listen("", "A", "x", 1), {"oops": 1}]}}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    records, issues = partition(iter_listenbrainz(path, user="zed"))
    assert [(r.user, r.track) for r in records] == [("zed", "x")]
    assert issues == [ParseIssue(2, "no track_metadata")]

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("user.json", json.dumps({"user_id": 7, "username": "rob"}))
        zf.writestr("feedback.jsonl", json.dumps({"score": 1}) + "\n")
        listens = [_listen("", "A", "one", 1700000000), _listen("", "B", "two", 1700000100)]
        listens[1]["track_metadata"].pop("artist_name")  # type: ignore[union-attr]
        zf.writestr("listens/2023/11.jsonl", "\n".join(json.dumps(x) for x in listens))
    records, issues = partition(iter_listenbrainz(archive))
    assert [(r.user, r.track) for r in records] == [("rob", "one")]
    assert len(issues) == 1 and issues[0].line == 2 and "listens/2023/11.jsonl" in issues[0].reason


def test_scrobble_csv_with_lastfm_export_header(tmp_path: Path) -> None:
    path = tmp_path / "scrobbles-kim.csv"
    path.write_text(
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
        '1704067200,"01 Jan 2024, 00:00",Daft Punk,,Discovery,,One More Time,\n'
        ",,Daft Punk,,Discovery,,Aerodynamic,\n"  # now playing: no time, kept
        "notatime,x,Air,,Moon Safari,,La Femme d'Argent,\n"
        "1704067300,x,,,Moon Safari,,Sexy Boy,\n"
        "\n"
        "1704067400,x,Air,,Moon Safari,,Kelly Watch the Stars,\n",
        encoding="utf-8",
    )
    records, issues = partition(iter_scrobble_csv(path))
    assert [(r.user, r.artist, r.track) for r in records] == [
        ("scrobbles-kim", "Daft Punk", "One More Time"),
        ("scrobbles-kim", "Daft Punk", "Aerodynamic"),
        ("scrobbles-kim", "Air", "Kelly Watch the Stars"),
    ]
    assert records[0].timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert records[1].timestamp is None
    assert [i.line for i in issues] == [4, 5]
    assert "bad time" in issues[0].reason and "missing artist" in issues[1].reason


def test_scrobble_csv_headerless_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes(
        "Sigur Rós,Ágætis byrjun,Svefn-g-englar,31 Jan 2021 12:34\n".encode()
        + "Mot\xf6rhead,Ace of Spades,Ace of Spades,31 Jan 2021 12:40\n".encode("latin-1")
        + b"just,three,cells\n"
    )
    records, issues = partition(iter_scrobble_csv(path, user="lee"))
    assert [(r.artist, r.track) for r in records] == [
        ("Sigur Rós", "Svefn-g-englar"),
        ("Motörhead", "Ace of Spades"),
    ]
    assert records[0].user == "lee"
    assert records[1].timestamp == datetime(2021, 1, 31, 12, 40, tzinfo=UTC)
    assert issues == [ParseIssue(3, "expected 4 columns (artist,album,track,date)")]


def test_generic_csv_contract(tmp_path: Path) -> None:
    path = tmp_path / "listens.csv"
    path.write_text(
        "user_id,artist,track,timestamp,count\n"
        "u1,Nina Simone,Feeling Good,2024-01-01T00:00:00Z,3\n"
        "u1,Nina Simone,Sinnerman,1704067200,\n"
        "u2,Nina Simone,Feeling Good,,1\n"
        "u2,,Missing Artist,,1\n"
        "u2,Nina Simone,Bad Count,,zero\n"
        "u2,Nina Simone,Bad Time,13/13/2024,1\n",
        encoding="utf-8",
    )
    records, issues = partition(iter_generic_csv(path))
    assert [(r.user, r.track, r.count) for r in records] == [
        ("u1", "Feeling Good", 3),
        ("u1", "Sinnerman", 1),
        ("u2", "Feeling Good", 1),
    ]
    assert records[2].timestamp is None
    assert [i.line for i in issues] == [5, 6, 7]

    bad_header = tmp_path / "wrong.csv"
    bad_header.write_text("user,artist,song\nu,a,s\n", encoding="utf-8")
    assert list(iter_generic_csv(bad_header)) == [
        ParseIssue(1, "header must name the columns user_id, artist and track")
    ]


def test_interactions_from_records_merge_normalised_names() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    log = from_records(
        [
            ListenRecord("a", "Muse", "Hysteria", when),
            ListenRecord("a", " MUSE", "hysteria ", None, count=2),
            ListenRecord("b", "Muse", "Uprising", when, event="like"),
            ParseIssue(9, "broken"),
            ListenRecord("b", "Muse", "Uprising", when, event="teleport"),
        ]
    )
    assert log.user_ids == ("a", "b")
    assert log.item_ids == ("muse\thysteria", "muse\tuprising")
    assert log.item.tolist() == [0, 0, 1]
    assert log.count.tolist() == [1.0, 2.0, 1.0]
    assert log.has_timestamps and bool(log.timestamp[1] != log.timestamp[1])  # NaN
    assert len(log.issues) == 2
    artists = from_records([ListenRecord("a", "Muse", "Hysteria", None)], level="artist")
    assert artists.item_ids == ("muse",)


def test_load_interactions_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        load_interactions(tmp_path, "spotify")
    log = load_interactions(FIXTURE, "listenbrainz")
    assert (log.n_users, len(log), len(log.issues)) == (6, 42, 3)
    assert log.n_items == 14  # "  MUSE " / "hysteria" merged with Muse / Hysteria

"""The HetRec 2011 loader: a hand-written folder, and the real data read in place.

The real-data test needs /work/shared/data/lastfm-2k (../shared/data/lastfm-2k from
the checkout); it skips only when that folder is absent, and fails under CI=true.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audotics.ml.datasets import from_hetrec, load_lastfm_hetrec
from tests.support.datasets import shared_data
from tests.support.servers import unavailable

LASTFM_2K = shared_data("lastfm-2k")


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    _write(
        tmp_path / "user_artists.dat",
        [
            b"userID\tartistID\tweight",
            b"2\t51\t100",
            b"2\t52\t7",
            b"3\t51\t1",
            b"3\tx\t4",
            b"4\t52\t0",
            b"4\t53",
        ],
    )
    _write(
        tmp_path / "artists.dat",
        [
            b"id\tname\turl\tpictureURL",
            b"51\tBj\xc3\xb6rk\thttp://a\thttp://p",
            "52\tMotörhead\thttp://b".encode("latin-1"),
            b"53\tNo Plays\thttp://c\t",
        ],
    )
    _write(tmp_path / "tags.dat", [b"tagID\ttagValue", b"1\trock", "2\tcafé".encode("latin-1")])
    _write(
        tmp_path / "user_taggedartists.dat",
        [
            b"userID\tartistID\ttagID\tday\tmonth\tyear",
            b"2\t51\t1\t1\t4\t2009",
            b"3\t51\t2\t31\t2\t2009",
            b"2\t52\t1\t1\t1\t2008",
        ],
    )
    _write(tmp_path / "user_friends.dat", [b"userID\tfriendID", b"2\t3", b"3\t2"])
    return tmp_path


def test_mini_folder_decodes_mixed_encodings_and_reports_bad_rows(mini: Path) -> None:
    data = load_lastfm_hetrec(mini)
    assert data.play_weight.tolist() == [100, 7, 1]
    assert data.artist_names[51] == "Björk" and data.artist_names[52] == "Motörhead"
    assert data.tag_names[2] == "café"
    assert [issue.line for issue in data.issues] == [5, 6, 7]
    assert np.isnan(data.tag_time[1])  # 31 February
    assert data.friends.tolist() == [[2, 3], [3, 2]]
    records = list(data.iter_records())
    assert [(r.user, r.artist, r.count, r.track) for r in records][:2] == [
        ("2", "Björk", 100, None),
        ("2", "Motörhead", 7, None),
    ]
    log = from_hetrec(data)
    assert log.item_names == ("Björk", "Motörhead")
    assert log.item_tags is not None
    assert log.item_tags.toarray().tolist() == [[1.0, 1.0], [1.0, 0.0]]
    assert log.tag_names == ("rock", "café")


def test_missing_folder_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"user_artists\.dat"):
        load_lastfm_hetrec(tmp_path)


def test_real_lastfm_2k_counts_match_the_readme() -> None:
    if not LASTFM_2K.is_dir():
        unavailable(f"real HetRec data not found at {LASTFM_2K}")
    data = load_lastfm_hetrec(LASTFM_2K)
    assert data.issues == []
    assert len(data.play_user) == 92_834
    assert len(data.user_ids) == 1_892
    assert len(data.artist_ids) == 17_632
    assert len(data.artist_names) == 17_632
    assert len(data.tag_names) == 11_946
    assert len(data.tag_user) == 186_479
    assert len(data.friends) == 25_434
    assert np.isfinite(data.tag_time).all()  # dates before 1970 exist (1956) and are valid
    log = from_hetrec(data)
    assert (log.n_users, log.n_items, len(log)) == (1_892, 17_632, 92_834)
    assert not log.has_timestamps
    assert int(log.count.astype(np.int64).sum()) == int(data.play_weight.sum())
    # Tags of artists nobody played (not items) are left out of the item-tag matrix.
    tagged_items = np.isin(data.tag_artist, data.artist_ids)
    assert 0 < tagged_items.sum() < 186_479
    assert log.item_tags is not None and log.item_tags.sum() == tagged_items.sum()

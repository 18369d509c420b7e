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


def _tag_folder(root: Path) -> Path:
    """Four users with three artists each; user 1 alone tags artist 11 "secret"."""
    plays = [b"userID\tartistID\tweight"]
    for user in (1, 2, 3, 4):
        plays += [f"{user}\t{artist}\t{5 + artist}".encode() for artist in (10 + user, 20, 30)]
    _write(root / "user_artists.dat", plays)
    _write(root / "tags.dat", [b"tagID\ttagValue", b"1\trock", b"2\tsecret"])
    _write(
        root / "user_taggedartists.dat",
        [
            b"userID\tartistID\ttagID\tday\tmonth\tyear",
            b"1\t11\t2\t1\t1\t2009",  # the only "secret": on user 1's own artist 11
            b"2\t11\t1\t1\t1\t2009",  # user 2 never played 11: not bound to a listen
            b"3\t20\t1\t1\t1\t2009",
            b"9\t30\t1\t1\t1\t2009",  # a tagger without plays
        ],
    )
    return root


def test_a_users_tags_of_a_held_out_artist_never_reach_the_training_content(
    tmp_path: Path,
) -> None:
    from audotics.ml.evaluate import random_holdout
    from audotics.ml.evaluate.hybrid import tag_tfidf

    log = from_hetrec(load_lastfm_hetrec(_tag_folder(tmp_path)))
    secret = log.tag_names.index("secret")
    artist_11 = log.item_ids.index("11")
    assert log.item_tags is not None and log.item_tags[artist_11, secret] == 1.0
    assert log.tag_user is not None and sorted(log.tag_user.tolist()) == [-1, 0, 1, 2]
    outcomes = set()
    for seed in range(40):  # some seeds hold (user 1, artist 11) out, others keep it
        split = random_holdout(log, fraction=0.34, seed=seed)
        held = {(int(u), int(i)) for u, i in zip(split.test.user, split.test.item, strict=True)}
        tags = split.train.item_tags
        assert tags is not None
        content = tag_tfidf(tags)
        outcomes.add((0, artist_11) in held)
        if (0, artist_11) in held:
            assert tags[artist_11, secret] == 0.0 and content[:, secret].nnz == 0
        else:
            assert tags[artist_11, secret] == 1.0
        # Assignments not bound to a held-out listen stay: user 2's and the tagless user's.
        rock = log.tag_names.index("rock")
        assert tags[artist_11, rock] == 1.0 and tags[log.item_ids.index("30"), rock] == 1.0
        inner = split.validation()
        inner_held = held | {
            (int(u), int(i)) for u, i in zip(inner.test.user, inner.test.item, strict=True)
        }
        inner_tags = inner.train.item_tags
        assert inner_tags is not None
        assert inner_tags[artist_11, secret] == (0.0 if (0, artist_11) in inner_held else 1.0)
    assert outcomes == {True, False}

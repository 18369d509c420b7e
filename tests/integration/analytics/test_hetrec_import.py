"""The Last.fm HetRec importer on the first 200 lines of each real file.

Needs ../shared/data/lastfm-2k (read in place; the subset is copied to tmp_path at
test time, never into the repository); skipped only where the folder is absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from audotics.config import Settings
from audotics.importers import run_import
from audotics.problems import BadRequest
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ItemKind
from audotics.services.catalog import service as catalog
from tests.integration.analytics.support import interactions, session_of, user_id
from tests.support.datasets import shared_data
from tests.support.servers import unavailable

HETREC = shared_data("lastfm-2k")
FILES = (
    "user_artists.dat",
    "artists.dat",
    "tags.dat",
    "user_taggedartists.dat",
    "user_friends.dat",
)
LINES = 200


@pytest.fixture
def subset(tmp_path: Path) -> Path:
    if not (HETREC / "user_artists.dat").exists():
        unavailable(f"the Last.fm HetRec data is not at {HETREC}")
    folder = tmp_path / "lastfm-2k-head"
    folder.mkdir()
    for name in FILES:
        with (HETREC / name).open("rb") as source:
            head = [next(source) for _ in range(LINES)]
        (folder / name).write_bytes(b"".join(head))
    with (folder / "user_artists.dat").open("ab") as extra:
        extra.write(b"2\tnot-an-artist\t5\n3\t51\t-4\n")  # two bad rows
    return folder


def _rows(path: Path) -> list[list[str]]:
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()[1:]
    return [line.split("\t") for line in lines if line.strip()]


async def test_hetrec_subset_imports_counts_genres_and_follows(
    settings: Settings, subset: Path
) -> None:
    plays = [row for row in _rows(subset / "user_artists.dat") if row[1].isdigit()]
    plays = [row for row in plays if int(row[2]) > 0]
    report = await run_import(settings, subset, "lastfm-hetrec")
    assert report.bad_rows == 2
    assert report.counts_written == len(plays)  # distinct names in the head of the file
    users = sorted({row[0] for row in plays})
    first = users[0]
    lastfm_user = await user_id(settings, f"lastfm-{first}")

    # Play counts land in the artist aggregates, one per (user, artist).
    mine = {
        row.item_id: row.plays for row in await interactions(settings, ItemKind.artist, lastfm_user)
    }
    expected = {row[1]: int(row[2]) for row in plays if row[0] == first}
    assert sorted(mine.values()) == sorted(expected.values())
    names = {row[0]: row[1] for row in _rows(subset / "artists.dat")}
    top_id = max(expected, key=lambda artist: expected[artist])
    async with session_of(settings) as session:
        stats = await analytics.listening_stats(session, lastfm_user, top=1)
        assert stats.top_artists[0].name == names[top_id]
        assert stats.top_artists[0].plays == expected[top_id]

        # Tags become genres: the artist's most assigned tags, at most five.
        tagged = Counter(
            (row[1], row[2])
            for row in _rows(subset / "user_taggedartists.dat")
            if row[1] in {row[1] for row in plays}
        )
        tag_names = {row[0]: row[1].strip() for row in _rows(subset / "tags.dat")}
        artist, _ = max(
            Counter(artist for artist, _ in tagged.elements()).items(), key=lambda kv: kv[1]
        )
        wanted = sorted(
            ((-times, tag_names[tag]) for (a, tag), times in tagged.items() if a == artist),
        )[:5]
        artist_row = await catalog.find_or_create_artist(
            session, names.get(artist, f"artist {artist}")
        )
        genres = (await catalog.get_artist(session, artist_row.id)).genres
        assert 1 <= len(genres) <= 5
        assert {name.casefold() for _, name in wanted} == {g.casefold() for g in genres}

        # Friends become follows between the imported accounts.
        friends = [row for row in _rows(subset / "user_friends.dat") if row[0] == first]
        following = await analytics.following(session, lastfm_user)
    assert len(following) == len(friends) > 0
    followed = {await user_id(settings, f"lastfm-{row[1]}") for row in friends}
    assert set(following) == followed

    again = await run_import(settings, subset, "lastfm-hetrec")
    assert (again.users_created, again.follows_new, again.counts_written) == (0, 0, 0)
    assert again.counts_unchanged == report.counts_written
    assert {
        row.item_id: row.plays for row in await interactions(settings, ItemKind.artist, lastfm_user)
    } == mine


async def test_hetrec_refuses_a_user_option_and_a_file(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="--user does not apply"):
        await run_import(settings, tmp_path, "lastfm-hetrec", username="someone")
    (tmp_path / "user_artists.dat").write_text("userID\tartistID\tweight\n")
    with pytest.raises(BadRequest, match="folder"):
        await run_import(settings, tmp_path / "user_artists.dat", "lastfm-hetrec")

"""The Last.fm HetRec 2011 dataset (``hetrec2011-lastfm-2k``), read in place.

Files (tab-separated, one header line each):

* ``user_artists.dat``: ``userID artistID weight`` -- aggregated play counts, no times;
* ``artists.dat``: ``id name url pictureURL`` -- names are UTF-8 with some latin-1
  lines, so each line is decoded on its own (:func:`decoded_lines`);
* ``tags.dat``: ``tagID tagValue`` (latin-1);
* ``user_taggedartists.dat``: ``userID artistID tagID day month year`` -- tags as genres;
* ``user_friends.dat``: ``userID friendID`` -- friends as follows.

Bad rows become :class:`ParseIssue` entries (the reason names the file) and are
skipped; a missing optional file (tags, friends, names) leaves its part empty.
Only ``user_artists.dat`` is required.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from audotics.ml.datasets.records import ListenRecord, ParseIssue, decoded_lines


@dataclass(frozen=True, eq=False)
class HetRecData:
    """Raw ids as in the files; arrays are aligned row by row."""

    play_user: np.ndarray  # int64, one per user_artists row
    play_artist: np.ndarray  # int64
    play_weight: np.ndarray  # int64 play counts
    artist_names: dict[int, str]
    tag_names: dict[int, str]
    tag_user: np.ndarray  # int64, one per user_taggedartists row
    tag_artist: np.ndarray
    tag_id: np.ndarray
    tag_time: np.ndarray  # float64 epoch seconds of the tagging day (NaN if invalid)
    friends: np.ndarray  # (n, 2) int64 (userID, friendID)
    issues: list[ParseIssue] = field(default_factory=list)

    @property
    def user_ids(self) -> np.ndarray:
        """Sorted distinct users that have plays."""
        return np.unique(self.play_user)

    @property
    def artist_ids(self) -> np.ndarray:
        """Sorted distinct artists that have plays."""
        return np.unique(self.play_artist)

    def artist_name(self, artist_id: int) -> str:
        return self.artist_names.get(int(artist_id), f"artist {artist_id}")

    def artist_tag_matrix(self, artist_ids: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(artists x tags) counts of tag assignments for sorted ``artist_ids``, and tag ids."""
        tag_ids = np.unique(self.tag_id)
        artist_ids = np.asarray(artist_ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(artist_ids, self.tag_artist), max(len(artist_ids) - 1, 0))
        keep = artist_ids[rows] == self.tag_artist if len(artist_ids) else rows < 0
        cols = np.searchsorted(tag_ids, self.tag_id[keep])
        matrix = sparse.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols)),
            shape=(len(artist_ids), len(tag_ids)),
        )
        matrix.sum_duplicates()
        return matrix, tag_ids

    def iter_records(self) -> Iterator[ListenRecord]:
        """One aggregated record per (user, artist) row, for importers."""
        for user, artist, weight in zip(
            self.play_user.tolist(),
            self.play_artist.tolist(),
            self.play_weight.tolist(),
            strict=True,
        ):
            yield ListenRecord(
                user=str(user),
                artist=self.artist_name(artist),
                track=None,
                timestamp=None,
                count=int(weight),
            )


def _table(
    path: Path, columns: int, issues: list[ParseIssue], *, min_columns: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each data row with the right number of fields."""
    if not path.exists():
        return
    least = columns if min_columns is None else min_columns
    with path.open("rb") as handle:
        for number, line in enumerate(decoded_lines(handle), start=1):
            if number == 1:
                continue  # header
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            fields = text.split("\t")
            if len(fields) < least or (min_columns is None and len(fields) != columns):
                issues.append(ParseIssue(number, f"{path.name}: expected {columns} fields"))
                continue
            yield number, fields


def _ints_fast(path: Path, columns: int) -> np.ndarray | None:
    """The whole table in one vectorised conversion, or None if any row is irregular."""
    if not path.exists():
        return np.zeros((0, columns), dtype=np.int64)
    lines = [line for line in path.read_bytes().splitlines()[1:] if line.strip()]
    if any(line.count(b"\t") != columns - 1 for line in lines):
        return None
    try:
        values = np.array(b"\t".join(lines).split(b"\t") if lines else [], dtype=np.bytes_)
        return values.astype(np.int64).reshape(-1, columns)
    except ValueError:
        return None


def _ints(
    path: Path, columns: int, issues: list[ParseIssue], *, positive_last: bool = False
) -> np.ndarray:
    fast = _ints_fast(path, columns)
    if fast is not None and (not positive_last or bool((fast[:, -1] > 0).all())):
        return fast
    rows: list[list[int]] = []
    for number, fields in _table(path, columns, issues):
        try:
            values = [int(value) for value in fields[:columns]]
        except ValueError:
            issues.append(ParseIssue(number, f"{path.name}: not integers"))
            continue
        if positive_last and values[-1] <= 0:
            issues.append(ParseIssue(number, f"{path.name}: weight must be positive"))
            continue
        rows.append(values)
    return np.array(rows, dtype=np.int64).reshape(-1, columns)


def _names(path: Path, issues: list[ParseIssue]) -> dict[int, str]:
    names: dict[int, str] = {}
    for number, fields in _table(path, 4, issues, min_columns=2):
        try:
            key = int(fields[0])
        except ValueError:
            issues.append(ParseIssue(number, f"{path.name}: id is not an integer"))
            continue
        names.setdefault(key, fields[1].strip() or f"#{key}")
    return names


def _days(day: np.ndarray, month: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Epoch seconds of each (day, month, year) at 00:00 UTC; NaN for impossible dates."""
    ok = (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1)
    months = np.where(ok, (year - 1970) * 12 + (month - 1), 0).astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + np.where(ok, day - 1, 0).astype("timedelta64[D]")
    ok &= dates.astype("datetime64[M]") == months  # day 31 of a 30-day month rolls over
    seconds = dates.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    return np.where(ok, seconds, np.nan)


def load_lastfm_hetrec(directory: str | Path) -> HetRecData:
    """Read the HetRec files from ``directory`` (never copied); FileNotFoundError without plays."""
    root = Path(directory)
    plays_path = root / "user_artists.dat"
    if not plays_path.exists():
        raise FileNotFoundError(f"{plays_path} not found: not a HetRec lastfm-2k folder")
    issues: list[ParseIssue] = []
    plays = _ints(plays_path, 3, issues, positive_last=True)
    artist_names = _names(root / "artists.dat", issues)
    tag_names = _names(root / "tags.dat", issues)
    tagged = _ints(root / "user_taggedartists.dat", 6, issues)
    friends = _ints(root / "user_friends.dat", 2, issues)
    tag_time = _days(tagged[:, 3], tagged[:, 4], tagged[:, 5])
    return HetRecData(
        play_user=plays[:, 0].copy(),
        play_artist=plays[:, 1].copy(),
        play_weight=plays[:, 2].copy(),
        artist_names=artist_names,
        tag_names=tag_names,
        tag_user=tagged[:, 0].copy(),
        tag_artist=tagged[:, 1].copy(),
        tag_id=tagged[:, 2].copy(),
        tag_time=tag_time,
        friends=friends.copy(),
        issues=issues,
    )


def follow_matrix(friends: np.ndarray, user_ids: Sequence[str]) -> sparse.csr_matrix:
    """(users x users) 0/1, row u = whom u follows, over ``user_ids`` (raw ids as text).

    Pairs naming a user outside ``user_ids`` (no plays) and self-follows are dropped.
    """
    index = {raw: position for position, raw in enumerate(user_ids)}
    pairs = np.asarray(friends, dtype=np.int64).reshape(-1, 2)
    rows, cols = [], []
    for follower, followed in pairs.tolist():
        a, b = index.get(str(follower)), index.get(str(followed))
        if a is not None and b is not None and a != b:
            rows.append(a)
            cols.append(b)
    n = len(user_ids)
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n), dtype=np.float32
    )
    matrix.data[:] = 1.0  # a pair listed twice is still one follow
    return matrix


def load_follows(directory: str | Path, user_ids: Sequence[str]) -> sparse.csr_matrix:
    """:func:`follow_matrix` of ``user_friends.dat`` in ``directory`` (empty if absent)."""
    issues: list[ParseIssue] = []
    return follow_matrix(_ints(Path(directory) / "user_friends.dat", 2, issues), user_ids)

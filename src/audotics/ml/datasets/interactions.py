"""An interaction log: (user index, item index, count, time, event) with id maps.

Every input format ends up here, so splits, confidence matrices, models and
metrics work on one shape whatever the source. Items are tracks keyed by
normalised ``(artist, track)`` (:func:`item_key`) for the track-level formats,
or artists (normalised name) with ``level="artist"``; for HetRec the item is the
artist, keyed by its HetRec id and named by ``artists.dat``.

Times are float64 epoch seconds, NaN when unknown (HetRec plays, a scrobble
without a date). Events are int8 codes into :data:`EVENTS`.

The content side, ``item_tags`` (items x tags counts), is derived from per-assignment
arrays (``tag_user``, ``tag_item``, ``tag_id``) when the format has them (HetRec's
``user_taggedartists.dat``). A tag user u gave to item i is bound to the pair (u, i):
:meth:`Interactions.select` keeps it only if the subset still has an event of that pair
(or the log never had one: a tag without a listen), so a split's training part never
carries the tags of its held-out pairs -- otherwise a held-out item's tag profile would
hold the user's own words for it. Formats without per-user tags keep ``item_tags`` as
given.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import sparse

from audotics.ml.datasets.csvfiles import iter_generic_csv, iter_scrobble_csv
from audotics.ml.datasets.hetrec import HetRecData, load_lastfm_hetrec
from audotics.ml.datasets.listenbrainz import iter_listenbrainz
from audotics.ml.datasets.records import EVENTS, ListenRecord, ParseIssue, item_key

Format = Literal["lastfm-hetrec", "listenbrainz", "scrobble-csv", "csv"]
FORMATS: tuple[str, ...] = ("lastfm-hetrec", "listenbrainz", "scrobble-csv", "csv")
Level = Literal["track", "artist"]
EVENT_CODE = {name: code for code, name in enumerate(EVENTS)}


@dataclass(frozen=True, eq=False)
class Interactions:
    """A listening log over fixed user and item id maps (arrays aligned by event)."""

    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    user: np.ndarray  # int32 index into user_ids
    item: np.ndarray  # int32 index into item_ids
    count: np.ndarray  # float32 plays (or events) this row stands for
    timestamp: np.ndarray  # float64 epoch seconds, NaN = unknown
    event: np.ndarray  # int8 code into EVENTS
    item_names: tuple[str, ...] = ()  # display names, aligned with item_ids
    item_tags: sparse.csr_matrix | None = None  # items x tags (counts), the content side
    tag_names: tuple[str, ...] = ()
    #: per tag assignment (aligned): user index (-1: a tagger with no listens), item
    #: index, tag column of ``item_tags``; None when the format has no per-user tags
    tag_user: np.ndarray | None = None
    tag_item: np.ndarray | None = None
    tag_id: np.ndarray | None = None
    issues: tuple[ParseIssue, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return int(self.user.shape[0])

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def has_timestamps(self) -> bool:
        return bool(np.isfinite(self.timestamp).any())

    def select(self, rows: np.ndarray) -> Interactions:
        """The events at ``rows`` (a boolean mask or indices), same id maps and metadata.

        Tag assignments whose (user, item) pair has events here but none at ``rows`` go
        with the dropped events (see the module docstring), and ``item_tags`` is
        recounted from the rest.
        """
        user, item = self.user[rows], self.item[rows]
        subset = replace(
            self,
            user=user,
            item=item,
            count=self.count[rows],
            timestamp=self.timestamp[rows],
            event=self.event[rows],
        )
        if self.tag_user is None or self.tag_item is None or self.tag_id is None:
            return subset
        before = np.unique(self._pairs(self.user, self.item))
        after = np.unique(self._pairs(user, item))
        dropped = np.setdiff1d(before, after, assume_unique=True)
        keep = ~np.isin(self._pairs(self.tag_user, self.tag_item), dropped)
        tag_user, tag_item, tag_id = self.tag_user[keep], self.tag_item[keep], self.tag_id[keep]
        n_tags = self.item_tags.shape[1] if self.item_tags is not None else len(self.tag_names)
        return replace(
            subset,
            tag_user=tag_user,
            tag_item=tag_item,
            tag_id=tag_id,
            item_tags=tag_counts(tag_item, tag_id, self.n_items, n_tags),
        )

    def _pairs(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """One int64 key per (user, item); negative for a user index of -1."""
        return user.astype(np.int64) * self.n_items + item

    def item_name(self, index: int) -> str:
        return self.item_names[index] if self.item_names else self.item_ids[index]


def tag_counts(
    tag_item: np.ndarray, tag_id: np.ndarray, n_items: int, n_tags: int
) -> sparse.csr_matrix:
    """(items x tags) float32 counts of the assignments (item, tag)."""
    matrix = sparse.csr_matrix(
        (np.ones(len(tag_item), dtype=np.float32), (tag_item, tag_id)),
        shape=(n_items, n_tags),
    )
    matrix.sum_duplicates()
    return matrix


def from_records(
    records: Iterable[ListenRecord | ParseIssue], level: Level = "track"
) -> Interactions:
    """Build the log from parser output; ParseIssues are kept in ``issues``."""
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    names: list[str] = []
    user_col, item_col = array("i"), array("i")
    count_col, time_col, event_col = array("f"), array("d"), array("b")
    issues: list[ParseIssue] = []
    for record in records:
        if isinstance(record, ParseIssue):
            issues.append(record)
            continue
        code = EVENT_CODE.get(record.event)
        if code is None or record.count < 1:
            issues.append(ParseIssue(0, f"unusable record event={record.event!r}"))
            continue
        track = record.track if level == "track" else None
        key = item_key(record.artist, track)
        if not key.replace("\t", "").strip():
            issues.append(ParseIssue(0, "empty artist name"))
            continue
        item_index = items.get(key)
        if item_index is None:
            item_index = items[key] = len(items)
            names.append(record.artist if track is None else f"{record.artist} - {track}")
        user_col.append(users.setdefault(record.user, len(users)))
        item_col.append(item_index)
        count_col.append(float(record.count))
        time_col.append(record.timestamp.timestamp() if record.timestamp else float("nan"))
        event_col.append(code)
    return Interactions(
        user_ids=tuple(users),
        item_ids=tuple(items),
        user=np.frombuffer(user_col, dtype=np.int32).copy(),
        item=np.frombuffer(item_col, dtype=np.int32).copy(),
        count=np.frombuffer(count_col, dtype=np.float32).copy(),
        timestamp=np.frombuffer(time_col, dtype=np.float64).copy(),
        event=np.frombuffer(event_col, dtype=np.int8).copy(),
        item_names=tuple(names),
        issues=tuple(issues),
    )


def from_hetrec(data: HetRecData) -> Interactions:
    """Artist-level log: one row per (user, artist) with its play count; tags as content.

    Every tag assignment on a played artist is kept with its user (``tag_user`` etc.), so
    splits can hold a user's tags of an artist out with that user's plays of it.
    """
    user_ids = data.user_ids
    artist_ids = data.artist_ids
    n = len(data.play_user)
    tags, tag_ids = data.artist_tag_matrix(artist_ids)
    on_items = np.isin(data.tag_artist, artist_ids)
    tag_user = np.searchsorted(user_ids, data.tag_user[on_items])
    tag_user = np.minimum(tag_user, max(len(user_ids) - 1, 0))
    known_user = user_ids[tag_user] == data.tag_user[on_items] if len(user_ids) else tag_user < 0
    return Interactions(
        user_ids=tuple(str(u) for u in user_ids.tolist()),
        item_ids=tuple(str(a) for a in artist_ids.tolist()),
        user=np.searchsorted(user_ids, data.play_user).astype(np.int32),
        item=np.searchsorted(artist_ids, data.play_artist).astype(np.int32),
        count=data.play_weight.astype(np.float32),
        timestamp=np.full(n, np.nan),
        event=np.full(n, EVENT_CODE["play"], dtype=np.int8),
        item_names=tuple(data.artist_name(a) for a in artist_ids.tolist()),
        item_tags=tags,
        tag_names=tuple(data.tag_names.get(int(t), str(t)) for t in tag_ids.tolist()),
        tag_user=np.where(known_user, tag_user, -1).astype(np.int32),
        tag_item=np.searchsorted(artist_ids, data.tag_artist[on_items]).astype(np.int32),
        tag_id=np.searchsorted(tag_ids, data.tag_id[on_items]).astype(np.int32),
        issues=tuple(data.issues),
    )


def load_interactions(path: str | Path, format: str, level: Level | None = None) -> Interactions:
    """Read any supported format into an :class:`Interactions` log.

    ``level`` (track formats only) picks track items (default) or artist items.
    Raises ValueError for an unknown format; bad rows never raise (see ``issues``).
    """
    if format == "lastfm-hetrec":
        return from_hetrec(load_lastfm_hetrec(path))
    parsers = {
        "listenbrainz": iter_listenbrainz,
        "scrobble-csv": iter_scrobble_csv,
        "csv": iter_generic_csv,
    }
    parser = parsers.get(format)
    if parser is None:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    return from_records(parser(Path(path)), level=level or "track")

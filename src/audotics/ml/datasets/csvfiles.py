"""Listening history in CSV: Last.fm-style scrobble exports and the generic contract.

Both parsers stream the file, decode each line on its own (UTF-8, else
Windows-1252), accept ``,``, ``;`` or tab as the delimiter (whichever the first
line uses most), skip blank lines, and yield a :class:`ParseIssue` for each bad
row. ``ParseIssue.line`` is the physical line number where the row ends.

``iter_scrobble_csv`` understands:

* a header naming the columns, in any order and case. Recognised names:
  artist: ``artist``, ``artist_name``, ``artist name``; track: ``track``, ``track_name``,
  ``track name``, ``title``, ``song``, ``name``; time (first found wins): ``uts``,
  ``timestamp``, ``listened_at``, ``played_at``, ``utc_time``, ``date``, ``time``;
  user: ``user``, ``username``, ``user_name``, ``user_id``; duration: ``duration``,
  ``duration_s`` (seconds) or ``duration_ms``. This covers the common Last.fm export
  ``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``.
* no header, four columns ``artist,album,track,date`` (the lastfm-to-csv export,
  dates like ``31 Jan 2021 12:34``).

Times may be epoch seconds/milliseconds, ISO 8601 or Last.fm's ``31 Jan 2021, 12:34``
(UTC). An empty time keeps the row without a timestamp; an unreadable one is an
issue. The user is the row's user column, else ``user=``, else the file stem.

``iter_generic_csv`` is the contract of ``audotics import --format csv``: a header with
``user_id,artist,track`` and optional ``timestamp`` (ISO 8601 or epoch seconds) and
``count`` (a positive integer, default 1); as extensions it also reads ``event`` (one of
:data:`EVENTS`) and ``duration_s``. A header without the three required columns is
one issue at line 1 and nothing else is read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from audotics.ml.datasets.records import (
    EVENTS,
    ListenRecord,
    ParseIssue,
    clean_text,
    decoded_lines,
    parse_time,
)

Item = ListenRecord | ParseIssue

_ARTIST = ("artist", "artist_name", "artist name", "artistname")
_TRACK = ("track", "track_name", "track name", "trackname", "title", "song", "name")
_TIME = ("uts", "timestamp", "listened_at", "played_at", "utc_time", "date", "time")
_USER = ("user", "username", "user_name", "user_id")
_DURATION = (("duration_ms", 1000.0), ("duration", 1.0), ("duration_s", 1.0))


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank row."""
    with path.open("rb") as handle:
        lines = decoded_lines(handle)
        first = next(lines, None)
        if first is None:
            return
        delimiter = max((",", ";", "\t"), key=first.count)

        def chained() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(chained(), delimiter=delimiter)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field larger than the csv limit
                yield reader.line_num, [f"\x00csv error: {exc}"]
                continue
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells


def _index(header: Sequence[str], names: Sequence[str]) -> int | None:
    lowered = [cell.strip().lower() for cell in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _cell(cells: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    return clean_text(cells[index])


def _csv_error(line: int, cells: Sequence[str]) -> ParseIssue | None:
    if len(cells) == 1 and cells[0].startswith("\x00csv error: "):
        return ParseIssue(line, cells[0][1:])
    return None


def _duration(cells: Sequence[str], columns: list[tuple[int, float]]) -> float | None:
    for index, scale in columns:
        text = _cell(cells, index)
        if text is None:
            continue
        try:
            value = float(text) / scale
        except ValueError:
            return None
        return value if 0 < value < float("inf") else None
    return None


def iter_scrobble_csv(path: str | Path, user: str | None = None) -> Iterator[Item]:
    """Yield a ListenRecord per scrobble row and a ParseIssue per unusable row."""
    path = Path(path)
    default_user = user or path.stem
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        return
    line, cells = first
    artist_i = _index(cells, _ARTIST)
    track_i = _index(cells, _TRACK)
    pending: list[tuple[int, list[str]]] = []
    if artist_i is not None and track_i is not None:
        time_i = _index(cells, _TIME)
        user_i = _index(cells, _USER)
        durations = [
            (i, scale) for name, scale in _DURATION if (i := _index(cells, (name,))) is not None
        ]
        width = None
    else:  # headerless artist,album,track,date
        artist_i, track_i, time_i, user_i, durations, width = 0, 2, 3, None, [], 4
        pending.append((line, cells))

    def rows_after() -> Iterator[tuple[int, list[str]]]:
        yield from pending
        yield from rows

    for line, cells in rows_after():
        problem = _csv_error(line, cells)
        if problem is not None:
            yield problem
            continue
        if width is not None and len(cells) != width:
            yield ParseIssue(line, f"expected {width} columns (artist,album,track,date)")
            continue
        artist, track = _cell(cells, artist_i), _cell(cells, track_i)
        if artist is None or track is None:
            yield ParseIssue(line, "missing artist or track")
            continue
        raw_time = _cell(cells, time_i)
        try:
            when = None if raw_time is None else parse_time(raw_time)
        except ValueError as exc:
            yield ParseIssue(line, f"bad time: {exc}")
            continue
        yield ListenRecord(
            user=_cell(cells, user_i) or default_user,
            artist=artist,
            track=track,
            timestamp=when,
            duration_s=_duration(cells, durations),
        )


def iter_generic_csv(path: str | Path) -> Iterator[Item]:
    """Yield records from a ``user_id,artist,track[,timestamp][,count]`` CSV."""
    rows = _rows(Path(path))
    first = next(rows, None)
    if first is None:
        return
    _, header = first
    user_i = _index(header, ("user_id",))
    artist_i = _index(header, ("artist",))
    track_i = _index(header, ("track",))
    if user_i is None or artist_i is None or track_i is None:
        yield ParseIssue(1, "header must name the columns user_id, artist and track")
        return
    time_i = _index(header, ("timestamp",))
    count_i = _index(header, ("count",))
    event_i = _index(header, ("event",))
    duration_i = _index(header, ("duration_s",))
    for line, cells in rows:
        problem = _csv_error(line, cells)
        if problem is not None:
            yield problem
            continue
        user, artist, track = _cell(cells, user_i), _cell(cells, artist_i), _cell(cells, track_i)
        if user is None or artist is None or track is None:
            yield ParseIssue(line, "missing user_id, artist or track")
            continue
        raw_time = _cell(cells, time_i)
        try:
            when = None if raw_time is None else parse_time(raw_time)
        except ValueError as exc:
            yield ParseIssue(line, f"bad timestamp: {exc}")
            continue
        raw_count = _cell(cells, count_i)
        try:
            count = 1 if raw_count is None else int(float(raw_count))
        except (ValueError, OverflowError):
            count = 0
        if count < 1:
            yield ParseIssue(line, f"bad count {raw_count!r}")
            continue
        event = (_cell(cells, event_i) or "play").lower()
        if event not in EVENTS:
            yield ParseIssue(line, f"unknown event {event!r}")
            continue
        yield ListenRecord(
            user=user,
            artist=artist,
            track=track,
            timestamp=when,
            count=count,
            event=event,
            duration_s=_duration(cells, [(duration_i, 1.0)] if duration_i is not None else []),
        )

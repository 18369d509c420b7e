"""Plain records shared by every dataset parser, and the helpers they use.

A parser yields :class:`ListenRecord` for each good row and :class:`ParseIssue`
for each bad one (never raising on data), so an importer can stream a file of
any size, count and report the bad rows and keep going.

Names are matched by :func:`normalize_name`: Unicode NFKC, case-folded, every run
of whitespace collapsed to one space, trimmed. A track-level item is the pair of
normalised (artist, track) names, keyed by :func:`item_key` as
``"artist\\ttrack"`` (a tab cannot survive normalisation, so the key is
unambiguous).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TypeVar

#: Event kinds a listening log can hold (the analytics service's vocabulary).
EVENTS: tuple[str, ...] = ("play", "complete", "like", "skip", "unlike")

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ListenRecord:
    """One listening event (or an aggregated count of plays when ``count`` > 1)."""

    user: str
    artist: str
    track: str | None
    timestamp: datetime | None
    count: int = 1
    event: str = "play"
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class ParseIssue:
    """A row that could not be used: its line (or element) number and why."""

    line: int
    reason: str


T = TypeVar("T")


def partition(items: Iterable[T | ParseIssue]) -> tuple[list[T], list[ParseIssue]]:
    """Split a parser's output into (records, issues)."""
    records: list[T] = []
    issues: list[ParseIssue] = []
    for item in items:
        if isinstance(item, ParseIssue):
            issues.append(item)
        else:
            records.append(item)
    return records, issues


def normalize_name(name: str) -> str:
    """NFKC, case-folded, whitespace collapsed and trimmed: the matching form of a name."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", name).casefold()).strip()


def item_key(artist: str, track: str | None) -> str:
    """The identity of a track-level item (or an artist when ``track`` is None)."""
    artist_n = normalize_name(artist)
    return artist_n if track is None else f"{artist_n}\t{normalize_name(track)}"


def clean_text(value: object) -> str | None:
    """A trimmed, non-empty string, or None."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


_LASTFM_FORMATS = ("%d %b %Y %H:%M", "%d %b %Y, %H:%M", "%d %B %Y %H:%M", "%d %B %Y, %H:%M")


def parse_time(value: object) -> datetime:
    """A UTC datetime from epoch seconds (or milliseconds), ISO 8601 or a Last.fm date.

    Raises ValueError for anything else; callers turn that into a ParseIssue.
    Naive ISO times are taken as UTC. Epoch values above 10^11 are milliseconds.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = clean_text(value)
    if text is None:
        raise ValueError("empty time")
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        for fmt in _LASTFM_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)  # Last.fm exports are UTC
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"unrecognised time {text[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise ValueError(f"bad epoch time {seconds!r}")
    if seconds > 1e11:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"epoch time out of range: {seconds!r}") from exc


def decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """Lines of a byte stream decoded one by one: UTF-8 (BOM dropped), else Windows-1252/latin-1.

    Mixed encodings (as in the HetRec files) decode line by line; NUL bytes are dropped.
    """
    first = True
    for raw in handle:
        if first and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        first = False
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        yield text.replace("\x00", "")

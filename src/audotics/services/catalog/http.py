"""Conditional requests and byte ranges (RFC 9110 sections 8.8, 13, 14) over header values.

Pure functions of header strings, so the api modules stay thin and these stay testable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from audotics.problems import RangeNotSatisfiable

_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
# At most 18 digits: larger positions cannot exist, and int() of thousands of digits raises.
_BYTE_RANGE = re.compile(r"(\d{0,18})-(\d{0,18})")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def http_date(moment: datetime) -> str:
    return format_datetime(_whole_seconds(moment), usegmt=True)


def _whole_seconds(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """(is_weak, opaque-tag) pairs of an If-None-Match / If-Match list; None if malformed."""
    tags, position = [], 0
    header = header.strip()
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if not match:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match names ``etag`` (weak comparison) or is ``*``."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag == opaque for _, tag in _entity_tags(header) or [])


def is_not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime | None,
) -> bool:
    """Whether a GET/HEAD may be answered 304 (If-None-Match takes precedence)."""
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    since = if_modified_since
    if since is None or last_modified is None:
        return False
    parsed = _parse_http_date(since)
    return parsed is not None and _whole_seconds(last_modified) <= parsed


def if_range_allows(header: str | None, etag: str, last_modified: datetime | None) -> bool:
    """Whether to honour Range: If-Range absent, or naming the current representation.

    Entity tags compare strongly (a weak tag never matches); a date must equal
    Last-Modified exactly.
    """
    if header is None:
        return True
    header = header.strip()
    if header.startswith(('"', "W/")):
        return not header.startswith("W/") and header == etag
    parsed = _parse_http_date(header)
    return (
        parsed is not None
        and last_modified is not None
        and (_whole_seconds(last_modified) == parsed)
    )


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range asked for, or None to send the whole representation.

    None for no header, another unit, a malformed value, or several ranges (this
    server answers multi-range requests with the full 200 rather than
    multipart/byteranges). Raises 416 when the range starts past the end.
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _BYTE_RANGE.fullmatch(spec.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # invalid, so ignored (RFC 9110 14.1.1)
    if start >= size:
        raise _unsatisfiable(size)
    end = size - 1 if last == "" else min(int(last), size - 1)
    return ByteRange(start, end)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The audio has {size} bytes; the requested range lies outside it.",
        headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
    )


def weak_etag(body: bytes) -> str:
    """A weak entity tag over a representation's bytes."""
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'

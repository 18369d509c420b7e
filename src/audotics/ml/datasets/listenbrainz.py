"""ListenBrainz listen exports, read as a stream.

Accepted layouts (detected from the content, not the file name):

* **JSONL**: one listen object per line, as in the ``listens/YYYY/M.jsonl`` files of
  the user export archive. ``ParseIssue.line`` is the line number.
* **the export archive** (``.zip``): every ``*.jsonl`` member under ``listens/``;
  the user name comes from ``user.json``. ``feedback.jsonl`` (love/hate by
  recording MBID) is not read: it carries no names to match. Issues are numbered
  by line within their member and name the member in the reason.
* **a JSON array** of listens (the older export, and ``listenbrainz_export``): decoded
  element by element without loading the file. ``ParseIssue.line`` is the 1-based
  element number.
* **one JSON document** wrapping the listens: an API response
  (``{"payload": {"listens": [...]}}``) or a submission (``{"listen_type": "import",
  "payload": [...]}``).

A listen is ``{"listened_at": <epoch seconds or ISO 8601>, "user_name": ...,
"track_metadata": {"artist_name": ..., "track_name": ..., "release_name": ...,
"additional_info": {"duration_ms" | "duration": ...}}}``. The user is the listen's
``user_name``, else ``user=``, else the archive's ``user.json``, else the file stem.
A listen without artist, track or time (a "playing now" entry) is an issue.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from audotics.ml.datasets.records import ListenRecord, ParseIssue, clean_text, parse_time

Item = ListenRecord | ParseIssue

_CHUNK = 1 << 16
_MAX_PENDING = 8 << 20  # give up on one array element after 8 MB without a complete value


def iter_listenbrainz(path: str | Path, user: str | None = None) -> Iterator[Item]:
    """Yield a ListenRecord per listen and a ParseIssue per unusable one."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        yield from _iter_zip(path, user)
        return
    with path.open("rb") as handle:
        yield from _iter_stream(handle, user or path.stem, prefix="")


def listen_to_record(listen: Any, default_user: str, line: int) -> Item:
    """One listen object (as submitted to or exported by ListenBrainz) -> a record or an issue."""
    if not isinstance(listen, dict):
        return ParseIssue(line, "listen is not a JSON object")
    meta = listen.get("track_metadata")
    if not isinstance(meta, dict):
        return ParseIssue(line, "no track_metadata")
    artist = clean_text(meta.get("artist_name"))
    track = clean_text(meta.get("track_name"))
    if artist is None or track is None:
        return ParseIssue(line, "missing artist_name or track_name")
    raw_time = listen.get("listened_at")
    if raw_time is None:
        return ParseIssue(line, "no listened_at (a playing-now entry?)")
    try:
        when = parse_time(raw_time)
    except ValueError as exc:
        return ParseIssue(line, f"bad listened_at: {exc}")
    user = clean_text(listen.get("user_name")) or default_user
    return ListenRecord(
        user=user,
        artist=artist,
        track=track,
        timestamp=when,
        duration_s=_duration(meta.get("additional_info")),
    )


def _duration(info: Any) -> float | None:
    if not isinstance(info, dict):
        return None
    for key, scale in (("duration_ms", 1000.0), ("duration", 1.0)):
        value = info.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value) / scale
    return None


def _iter_zip(path: Path, user: str | None) -> Iterator[Item]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        default = user
        if default is None:
            user_json = next((n for n in names if n.rsplit("/", 1)[-1] == "user.json"), None)
            if user_json is not None:
                try:
                    info = json.loads(archive.read(user_json))
                    default = clean_text(info.get("username") or info.get("user_name"))
                except (ValueError, AttributeError):
                    default = None
        default = default or path.stem
        members = sorted(
            n for n in names if n.endswith((".jsonl", ".json")) and "listens/" in f"/{n}"
        )
        for member in members:
            with archive.open(member) as handle:
                yield from _iter_stream(handle, default, prefix=f"{member}: ")


def _iter_stream(handle: IO[bytes], default_user: str, prefix: str) -> Iterator[Item]:
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
    head = ""
    while True:
        chunk = text.read(1)
        if not chunk:
            return  # empty file: nothing to yield
        if chunk.lstrip("\ufeff \t\r\n"):
            head = chunk
            break
    if head == "[":
        yield from _iter_array(text, default_user, prefix)
        return
    first_line = head + text.readline()
    try:
        first = json.loads(first_line)
    except (ValueError, RecursionError):
        first = None
    if isinstance(first, dict) and "track_metadata" in first:
        yield _tag(listen_to_record(first, default_user, 1), prefix)
        yield from _iter_jsonl(text, default_user, prefix, start=2)
        return
    # One document wrapping the listens (small by nature: an API page or a submission).
    document = first_line + text.read()
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        # Not a document: JSONL whose first line is bad.
        yield ParseIssue(1, f"{prefix}not a JSON listen")
        yield from _iter_jsonl(io.StringIO(document.split("\n", 1)[-1]), default_user, prefix, 2)
        return
    listens = _wrapped_listens(data)
    if listens is None:
        yield ParseIssue(1, f"{prefix}no listens in this JSON document")
        return
    for number, listen in enumerate(listens, start=1):
        yield _tag(listen_to_record(listen, default_user, number), prefix)


def _wrapped_listens(data: Any) -> list[Any] | None:
    if not isinstance(data, dict):
        return None
    if "track_metadata" in data:
        return [data]
    payload = data.get("payload", data)
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
        return list(payload["listens"])
    return None


def _iter_jsonl(text: IO[str], default_user: str, prefix: str, start: int) -> Iterator[Item]:
    for number, line in enumerate(text, start=start):
        if not line.strip():
            continue
        try:
            listen = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield ParseIssue(number, f"{prefix}invalid JSON: {getattr(exc, 'msg', exc)}")
            continue
        yield _tag(listen_to_record(listen, default_user, number), prefix)


def _iter_array(text: IO[str], default_user: str, prefix: str) -> Iterator[Item]:
    """Decode ``[obj, obj, ...]`` element by element with a bounded buffer."""
    decoder = json.JSONDecoder()
    buffer = ""
    pos = 0
    eof = False
    number = 0
    while True:
        # Skip separators, refilling as needed.
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or eof:
                break
            buffer, pos = text.read(_CHUNK), 0
            eof = not buffer
        if pos >= len(buffer):
            yield ParseIssue(number + 1, f"{prefix}JSON array is not closed")
            return
        if buffer[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, pos)
        except (ValueError, RecursionError) as exc:
            if not eof and len(buffer) - pos < _MAX_PENDING:
                more = text.read(_CHUNK)
                eof = not more
                buffer = buffer[pos:] + more
                pos = 0
                continue
            number += 1
            yield ParseIssue(number, f"{prefix}invalid JSON element: {exc}")
            resync = _next_element(buffer, pos + 1)
            if resync is None:
                return
            pos = resync
            continue
        number += 1
        pos = end
        yield _tag(listen_to_record(value, default_user, number), prefix)
        if pos > _CHUNK:
            buffer, pos = buffer[pos:], 0


def _next_element(buffer: str, start: int) -> int | None:
    """The next ``{`` that follows a comma: a best guess at the next array element."""
    index = start
    while True:
        index = buffer.find("{", index)
        if index < 0:
            return None
        back = index - 1
        while back >= 0 and buffer[back] in " \t\r\n":
            back -= 1
        if back >= 0 and buffer[back] == ",":
            return index
        index += 1


def _tag(item: Item, prefix: str) -> Item:
    if prefix and isinstance(item, ParseIssue):
        return ParseIssue(item.line, prefix + item.reason)
    return item

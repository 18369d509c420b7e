"""What the fuzzer sends and how it judges the answers.

Schemathesis generates requests in the shape of the ``requests`` library; this
module turns them into arguments for an httpx client (Starlette's TestClient),
sending only what an HTTP/1.1 client could put on the wire, and holds the checks
every answer must pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

BASE_URL = "http://testserver"
PROBLEM_JSON = "application/problem+json"
PROBLEM_FIELDS = ("type", "title", "status", "detail")

# Values that broke, or could break, some layer: NUL (PostgreSQL text), full-text and LIKE
# syntax, case folding that changes length, integers past int4/int8, extreme floats. Each
# is drawn in place of a generated value of its type with the given probability. (Lone
# surrogates cannot be entries, schemathesis checks them as UTF-8; pydantic refuses them
# anyway, and tests/fuzz/test_unstorable_input.py sends them.)
GENERATION_CONFIG: dict[str, Any] = {
    "dictionaries": {
        "nasty-text": {
            "values": [
                "\x00",
                "a\x00b",
                "\x00 x \x00",
                "%00",
                "%_\\",
                "' OR 1=1 --",
                "a & !b | (c <-> d):*",
                "İİİ",
                "ß\u0130\ufb03",
                "\u202e\ufeff\u0085",
            ]
        },
        "edge-integers": {
            "values": [-1, 0, 2147483647, 2147483648, 9223372036854775807, 9223372036854775808]
        },
        "edge-numbers": {"values": [-0.0, 5e-324, 1e308, -1e308, 9007199254740993]},
    },
    "generation": {
        "dictionaries": {
            "string": {"dictionary": "nasty-text", "probability": 0.25},
            "integer": {"dictionary": "edge-integers", "probability": 0.2},
            "number": {"dictionary": "edge-numbers", "probability": 0.2},
        }
    },
}


def load_schema(document: dict[str, Any]) -> Any:
    """The OpenAPI document as schemathesis operations, generating with the dictionaries."""
    config = schemathesis.Config.from_dict(GENERATION_CONFIG)
    return schemathesis.openapi.from_dict(document, config=config)


def problem_json(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx and 5xx is an RFC 9457 problem document whose status matches."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{response.status_code} answered with Content-Type {content_type!r}, not {PROBLEM_JSON}"
    )
    if case.method.upper() == "HEAD":
        return  # no body to look at
    body = json.loads(response.content)
    assert isinstance(body, dict), f"problem body is not an object: {body!r}"
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    assert not missing, f"problem body lacks {missing}: {body!r}"
    assert body["status"] == response.status_code, f"status field {body['status']} != HTTP"


CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_json,
]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 5.1)


class Unsendable(Exception):
    """A generated request no HTTP/1.1 client could put on the wire."""


def _header(name: str, value: Any) -> tuple[bytes, bytes]:
    # Servers drop the whitespace around a value (RFC 9110 5.5), so it never arrives.
    text = (value if isinstance(value, str) else json.dumps(value)).strip()
    if any(ch in text for ch in "\r\n\x00") or not _TOKEN.fullmatch(name):
        raise Unsendable("not a header an HTTP/1.1 client can send")
    return name.encode(), text.encode("utf-8")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else _text(value).encode("utf-8", "surrogatepass")


def httpx_kwargs(case: schemathesis.Case, headers: dict[str, str]) -> dict[str, Any]:
    """The request of ``case`` (plus ``headers``) as arguments for an httpx client."""
    kw = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    url = urlsplit(kw["url"])
    # Percent-encode what schemathesis left raw in the path (control characters, NUL).
    path = quote(url.path, safe="/%:@!$&'()*+,;=~")
    out: dict[str, Any] = {"method": kw["method"], "url": urlunsplit(url._replace(path=path))}
    out["headers"] = [
        _header(name, value)
        for name, value in (kw.get("headers") or {}).items()
        if name.lower() not in ("content-length", "transfer-encoding", "host")
    ]
    out["params"] = [
        (str(name), _text(item))
        for name, value in (kw.get("params") or {}).items()
        if value is not None
        for item in (value if isinstance(value, list) else [value])
    ]
    data = kw.get("data")
    if "json" in kw:
        try:
            # ASCII escapes, as most clients send: "\u0000" and "\ud800" arrive as valid JSON.
            out["content"] = json.dumps(kw["json"], allow_nan=False).encode()
        except ValueError as exc:
            raise Unsendable("NaN or Infinity in a JSON body") from exc
    elif kw.get("files"):
        out["files"] = [(name, (part[0], _bytes(part[1]))) for name, part in kw["files"]]
        if isinstance(data, dict):
            out["data"] = data
        # httpx writes the multipart Content-Type with its boundary.
        out["headers"] = [h for h in out["headers"] if h[0].lower() != b"content-type"]
    elif isinstance(data, bytes | str):
        out["content"] = _bytes(data)
    elif isinstance(data, dict):
        out["data"] = data
    return out


# Body and query fields that name objects, and which seeded object each names.
ID_FIELDS = {
    "artist_id": "artist_id",
    "album_id": "album_id",
    "track_id": "track_id",
    "track_ids": "track_id",
    "playlist_id": "playlist_id",
    "item_id": "item_id",
    "before_item_id": "other_item_id",
    "after_item_id": "other_item_id",
    "user_id": "user_id",
}


def with_known_ids(value: Any, known: dict[str, str]) -> Any:
    """``value`` with the ids it names (as strings) swapped for ids of objects that exist."""
    if isinstance(value, list):
        return [with_known_ids(item, known) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for key, item in value.items():
        seeded = known.get(ID_FIELDS.get(key, ""))
        if seeded and isinstance(item, str):
            out[key] = seeded
        elif seeded and isinstance(item, list):
            out[key] = [seeded if isinstance(i, str) else i for i in item]
        else:
            out[key] = with_known_ids(item, known)
    return out


def string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every string inside a JSON-like value (dict values and list items)."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in string_leaves(item, (*path, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in string_leaves(item, (*path, i))]
    return []


def with_leaf(value: Any, path: tuple[Any, ...], replace: Callable[[str], str]) -> Any:
    """A copy of ``value`` with the string at ``path`` replaced by ``replace(it)``."""
    if not path:
        return replace(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: with_leaf(value[head], rest, replace)}
    items = list(value)
    items[head] = with_leaf(items[head], rest, replace)
    return items

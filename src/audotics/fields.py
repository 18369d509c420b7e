"""Pydantic field types shared by every service's request and response schemas.

Text a client sends must be storable in both databases: PostgreSQL ``text``
cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8 by either
driver. Either would otherwise fail deep in the driver as a 500, so these types
refuse them at validation (422). (Pydantic's ``str`` already refuses a lone
surrogate arriving as ``"\\ud800"`` in JSON; the check here also covers text
built in Python, by importers or the CLI.) Like :mod:`audotics.problems` this
module is shared by every layer and knows nothing of HTTP or the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

# C0 and C1 control characters (DEL included); tab, LF and CR are allowed in multi-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` unchanged; ValueError if no database could store it (NUL, lone surrogate)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if _SURROGATE.search(value):
        raise ValueError("must be valid Unicode text (no lone surrogates)")
    return value


def single_line(value: str) -> str:
    """Storable, and no control characters or line breaks at all."""
    if _CONTROL.search(storable(value)):
        raise ValueError("must not contain control characters or line breaks")
    return value


def multi_line(value: str) -> str:
    """Storable; line breaks and tabs allowed, other control characters not."""
    if _CONTROL_BUT_LINE_BREAKS.search(storable(value)):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC: SQLite hands them back without an offset."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


StorableText = Annotated[str, AfterValidator(storable)]
SingleLineText = Annotated[str, AfterValidator(single_line)]
MultiLineText = Annotated[str, AfterValidator(multi_line)]


def _without_null(schema: dict[str, Any]) -> None:
    options = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options


# A PATCH field that may be left out (None: keep) but not sent as null, which the model
# refuses: `name: Annotated[Name | None, NOT_NULL] = None`. The OpenAPI document then
# does not offer null either.
NOT_NULL: Any = Field(json_schema_extra=_without_null)

# A response timestamp always carries its offset (RFC 3339 date-time), on either database.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

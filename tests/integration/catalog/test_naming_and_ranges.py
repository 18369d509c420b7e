"""Pure helpers: name normalisation, Range parsing and entity-tag matching (no database)."""

from __future__ import annotations

import pytest

from audotics.problems import RangeNotSatisfiable
from audotics.services.catalog.http import ByteRange, if_range_allows, none_match, parse_range
from audotics.services.catalog.naming import clean_name, genre_key, name_key, title_key


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("The Beatles", "beatles"),
        ("Beatles, The", "THE BEATLES!"),
        ("Sigur Rós", "sigur ros"),
        ("Jay-Z", "Jay Z"),
        ("Guns N\u2019 Roses", "Guns N' Roses"),
        ("Simon & Garfunkel", "Simon and Garfunkel"),
        ("ﬁsh", "FISH"),  # compatibility ligature
    ],
)
def test_names_that_match(one: str, other: str) -> None:
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("か", "が"), ("The The", "Them"), ("Blur", "Blurt")],
)
def test_names_that_differ(one: str, other: str) -> None:
    assert name_key(one) != name_key(other)


def test_keys_never_empty_and_titles_keep_articles() -> None:
    assert name_key("!!!") == "!!!"
    assert title_key("The Wall") != title_key("Wall")
    assert genre_key("Hip-Hop") == genre_key("hip_hop") == "hip hop"
    assert clean_name("  a\x00b \n c ") == "a b c"
    assert len(name_key("ﷺ" * 300)) == 300  # NFKC expands this; keys stay within the column


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=2-", ByteRange(2, 9)),
        ("bytes=-3", ByteRange(7, 9)),
        ("bytes=5-100", ByteRange(5, 9)),
        ("BYTES = 1-2", ByteRange(1, 2)),
        ("bytes=0-1,4-5", None),
        ("bytes=3-1", None),
        ("bytes=-", None),
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=0-" + "9" * 5000, None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        parse_range(header, 10)
    assert raised.value.headers["Content-Range"] == "bytes */10"


def test_entity_tag_matching() -> None:
    assert none_match('"a", "b"', '"b"')
    assert none_match('W/"b"', '"b"') and none_match('"b"', 'W/"b"')
    assert none_match("*", '"x"')
    assert not none_match('"a"', '"b"') and not none_match("garbage", '"b"')
    assert if_range_allows(None, '"b"', None)
    assert if_range_allows('"b"', '"b"', None)
    assert not if_range_allows('W/"b"', '"b"', None)
    assert not if_range_allows("not a date", '"b"', None)

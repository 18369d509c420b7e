"""Property tests of the user service's input rules (pure functions, no database)."""

from __future__ import annotations

import json
import string
import unicodedata
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from audotics.problems import Unprocessable
from audotics.services.users.schemas import PREFERENCES_MAX_BYTES, ProfileUpdate, SignUp
from audotics.services.users.security import check_password_strength

USERNAME_ALPHABET = set(string.ascii_lowercase + string.digits + "_-")
PASSWORD = "Correct-Horse-Battery-9"

# Skewed towards near-misses: the allowed alphabet plus capitals, spaces and newlines.
username_candidates = st.one_of(
    st.text(),
    st.text(alphabet=string.ascii_letters + string.digits + "_- \n.", max_size=40),
    st.from_regex(r"[a-z0-9_-]{3,32}", fullmatch=True),
)


def _signup(username: str) -> SignUp:
    return SignUp(email="someone@example.org", username=username, password=PASSWORD)


@settings(max_examples=300, deadline=None)
@given(username_candidates)
def test_accepted_usernames_are_short_lowercase_and_url_safe(username: str) -> None:
    try:
        accepted = _signup(username).username
    except ValidationError:
        assert not (3 <= len(username) <= 32 and set(username) <= USERNAME_ALPHABET)
        return
    assert accepted == username
    assert 3 <= len(accepted) <= 32
    assert set(accepted) <= USERNAME_ALPHABET
    assert quote(accepted, safe="") == accepted


@settings(max_examples=300, deadline=None)
@given(
    password=st.text(max_size=40),
    min_length=st.integers(min_value=8, max_value=20),
    username=st.from_regex(r"[a-z0-9_-]{3,32}", fullmatch=True),
)
def test_accepted_passwords_meet_every_rule(password: str, min_length: int, username: str) -> None:
    try:
        check_password_strength(password, min_length=min_length, avoid=(username,))
    except Unprocessable as problem:
        errors = problem.extra["errors"]
        assert errors and all(e["field"] == "password" for e in errors)
        return
    assert len(password) >= min_length
    assert len(set(password)) >= 5
    assert username not in password.lower()


@settings(max_examples=200, deadline=None)
@given(
    username=st.from_regex(r"[a-z0-9]{3,12}", fullmatch=True),
    before=st.text(max_size=10),
    after=st.text(max_size=10),
    shout=st.booleans(),
)
def test_passwords_containing_the_username_are_rejected(
    username: str, before: str, after: str, shout: bool
) -> None:
    password = f"Aa1!{before}{username.upper() if shout else username}{after}-long-enough"
    with pytest.raises(Unprocessable):
        check_password_strength(password, min_length=10, avoid=(username,))


@settings(max_examples=200, deadline=None)
@given(
    letters=st.lists(
        st.sampled_from(string.ascii_lowercase), min_size=12, max_size=30, unique=True
    ),
    digit=st.sampled_from(string.digits),
)
def test_long_varied_passwords_are_accepted(letters: list[str], digit: str) -> None:
    password = "".join(letters) + digit
    check_password_strength(password, min_length=10, avoid=())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    display_name=st.text(max_size=120),
    preferences=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_accepted_profile_text_and_preferences_are_storable(
    display_name: str, preferences: dict[str, Any]
) -> None:
    try:
        update = ProfileUpdate(display_name=display_name, preferences=preferences)
    except ValidationError:
        return
    assert update.display_name is not None and update.preferences is not None
    assert 1 <= len(update.display_name) <= 100
    assert "\x00" not in update.display_name
    assert not any(unicodedata.category(ch) == "Cc" for ch in update.display_name)
    update.display_name.encode("utf-8")
    encoded = json.dumps(update.preferences, allow_nan=False, ensure_ascii=False).encode()
    assert len(encoded) <= PREFERENCES_MAX_BYTES

"""Key validation: what it rejects, and (property-based) that no accepted key leaves the root."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from audotics.infra.objects.base import InvalidObjectKey, validate_key
from audotics.infra.objects.local import LocalObjectStore
from tests.integration.objects.test_object_store import BAD_KEYS, key_id

# Heavy on the characters that matter for paths, plus some that must never pass.
_PATH_ALPHABET = st.sampled_from(list("ab._-/\\~:\x00\n \u00e9\u2215\uff0e"))
_KEYS = st.one_of(
    st.text(_PATH_ALPHABET, max_size=24),
    st.lists(st.sampled_from(["", ".", "..", "...", "a", ".a", "a.", "..a", "-"]), max_size=6).map(
        "/".join
    ),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> LocalObjectStore:
    # Module-scoped: hypothesis re-runs the test body, and a store needs no reset here.
    return LocalObjectStore(tmp_path_factory.mktemp("key-property"))


@pytest.mark.parametrize("key", BAD_KEYS, ids=key_id)
def test_validate_key_rejects(key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        validate_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "audio/ab/cd/track-1_final.v2.mp3",
        "a..b",
        "/".join(["x" * 255, "y" * 255]),
        "-/_",
    ],
    ids=key_id,
)
def test_validate_key_accepts(key: str) -> None:
    assert validate_key(key) == key


@settings(max_examples=400, deadline=None)
@given(_KEYS)
@example("..")
@example("a/../..")
@example("a/..")
@example("/etc/passwd")
@example("a\n")
@example(".meta/x.meta.json")
def test_accepted_keys_stay_inside_the_local_root(local_store: LocalObjectStore, key: str) -> None:
    try:
        validate_key(key)
    except InvalidObjectKey:
        return
    root = local_store.root
    # Lexically: the joined path normalises to itself and stays strictly below the root.
    joined = posixpath.join(str(root), key)
    assert posixpath.normpath(joined) == joined
    assert joined.startswith(str(root) + os.sep)
    # And the store maps it to exactly that file, outside its reserved dot-names.
    path = local_store._path(key)
    assert path == root / key
    assert root in path.parents
    assert not any(part.startswith(".") for part in path.relative_to(root).parts)

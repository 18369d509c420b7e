"""The OpenAPI document describes every endpoint, and its errors as they are really sent.

Third-party apps generate clients from ``/openapi.json``; a missing summary leaves
an endpoint undocumented, and an error response declared as ``application/json``
(or not at all) generates a client that cannot read our RFC 9457 problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from audotics.app import create_app
from audotics.config import Settings
from audotics.services.catalog.schemas import AlbumUpdate, ArtistUpdate, TrackUpdate
from audotics.services.playlists.schemas import PlaylistUpdate
from audotics.services.users.schemas import AdminUserUpdate, ProfileUpdate

PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("openapi")
    schema: dict[str, Any] = create_app(Settings(data_dir=data_dir)).openapi()
    return schema


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_walk_sees_every_api_operation(document: dict[str, Any]) -> None:
    labels = {label for label, _ in _operations(document)}
    assert len(labels) >= 50
    assert {"POST /api/v1/auth/signup", "GET /api/v1/search", "GET /healthz"} <= labels


def test_every_operation_has_a_summary(document: dict[str, Any]) -> None:
    missing = [label for label, op in _operations(document) if not op.get("summary", "").strip()]
    assert missing == []


def test_operations_taking_input_document_422(document: dict[str, Any]) -> None:
    """A body or a path parameter can always be invalid; so can any other parameter."""
    missing = [
        label
        for label, op in _operations(document)
        if (op.get("requestBody") or op.get("parameters")) and "422" not in op["responses"]
    ]
    assert missing == []


def test_operations_taking_a_body_document_413(document: dict[str, Any]) -> None:
    missing = [
        label
        for label, op in _operations(document)
        if op.get("requestBody") and "413" not in op["responses"]
    ]
    assert missing == []


def test_signed_in_operations_document_401(document: dict[str, Any]) -> None:
    missing = [
        label
        for label, op in _operations(document)
        if op.get("security") and "401" not in op["responses"]
    ]
    assert missing == []


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
    }
    wrong = []
    for label, op in _operations(document):
        for code, response in op["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            content = response.get("content", {})
            schema = content.get(PROBLEM_JSON, {}).get("schema", {})
            if (
                set(content) != {PROBLEM_JSON}
                or schema.get("$ref") != "#/components/schemas/Problem"
            ):
                wrong.append(f"{label} {code}: {sorted(content)}")
    assert wrong == []


def test_every_tag_is_declared_with_a_description(document: dict[str, Any]) -> None:
    declared = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    used = {tag for _, op in _operations(document) for tag in op.get("tags", [])}
    assert sorted(used - declared.keys()) == []
    assert all(declared[tag].strip() for tag in used)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, op in _operations(document)]
    assert len(ids) == len(set(ids))


PATCH_BODIES: list[type[BaseModel]] = [
    ArtistUpdate,
    AlbumUpdate,
    TrackUpdate,
    PlaylistUpdate,
    ProfileUpdate,
    AdminUserUpdate,
]


@pytest.mark.parametrize("model", PATCH_BODIES, ids=lambda m: m.__name__)
def test_patch_bodies_offer_null_exactly_where_it_is_accepted(model: type[BaseModel]) -> None:
    """A generated client must not send null where the server answers 422 to it."""
    properties = model.model_json_schema()["properties"]
    for name, schema in properties.items():
        offered = {"type": "null"} in schema.get("anyOf", [])
        try:
            model.model_validate({name: None})
            accepted = True
        except ValidationError:
            accepted = False
        assert offered == accepted, f"{model.__name__}.{name}: null offered={offered}"

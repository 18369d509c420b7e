"""Dependencies, parameters and response helpers shared by the catalog's api modules."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

from audotics.gateway.pagination import Page, PageParams, page_params
from audotics.services.catalog.http import none_match, weak_etag
from audotics.services.catalog.schemas import Viewer
from audotics.services.users.schemas import Identity, Role

T = TypeVar("T")

JSON_CACHE_CONTROL = "private, no-cache"
# No control characters in text filters: PostgreSQL rejects NUL, and none belongs in a name.
TEXT_FILTER = r"^[^\x00-\x1f\x7f]*$"
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)"}
}
Pagination = Annotated[PageParams, Depends(page_params)]
GenreFilter = Annotated[
    str | None, Query(max_length=60, pattern=TEXT_FILTER, description="Genre name")
]


def viewer_of(identity: Identity) -> Viewer:
    return Viewer(user_id=identity.user_id, can_curate=identity.role.at_least(Role.curator))


def page_of(found: tuple[list[T], int], params: PageParams) -> Page[T]:
    items, total = found
    return Page[T].build(items, total, params)


def json_with_etag(request: Request, payload: BaseModel) -> Response:
    """JSON with a weak ETag over its bytes, answering 304 to a matching If-None-Match.

    Hashing the body rather than ``updated_at`` keeps the tag honest when
    something shown inside changes, such as a track's artist being renamed.
    """
    body = payload.model_dump_json().encode()
    etag = weak_etag(body)
    headers = {"ETag": etag, "Cache-Control": JSON_CACHE_CONTROL, "Vary": "Authorization"}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)

"""HTTP route of the search service: GET /search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.gateway.pagination import Page, PageParams, page_params
from audotics.services.search import service
from audotics.services.search.schemas import (
    MAX_QUERY_LENGTH,
    SearchFilters,
    SearchHit,
    SearchQuery,
)

router = APIRouter(responses=PROBLEM_RESPONSES)


class SearchParams(SearchFilters):
    q: str = Field(
        default="",
        max_length=MAX_QUERY_LENGTH,
        description="Words to find; the last one may be unfinished, typos are tolerated. "
        "May be empty when a filter is given (results are then ordered by popularity).",
    )


@router.get(
    "/search",
    response_model=Page[SearchHit],
    tags=["search"],
    summary="Search tracks, artists and albums",
)
async def search(
    params: Annotated[SearchParams, Query()],
    page: Annotated[PageParams, Depends(page_params)],
    identity: CurrentUser,
    session: SessionDep,
) -> Page[SearchHit]:
    """Full-text search with prefix matching and typo tolerance, plus audio-feature filters.

    Every word must match (in the title, the artist or the keywords); the last
    one may be unfinished; words of 4+ letters may hold one typo, 8+ letters two.
    Ranking: the words as a phrase, then all words anywhere, then the last word
    completed, then with typos; within each, title matches before artist and
    keyword matches, then popularity. Only public items and your own are found.
    Without words, filters browse by popularity; with neither, nothing is found.
    """
    query = SearchQuery(
        **params.model_dump(exclude={"q"}), text=params.q, limit=page.limit, offset=page.offset
    )
    results = await service.search(session, query, identity.user_id)
    return Page[SearchHit].build(results.hits, results.total, page)

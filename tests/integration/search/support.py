"""Helpers shared by the search tests: documents, indexing through the service, HTTP search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import FastAPI

from audotics.services.search import service
from audotics.services.search.schemas import DocumentKind, SearchDocument

SEARCH = "/api/v1/search"
PROBLEM = "application/problem+json"


def document(
    title: str,
    *,
    kind: DocumentKind = DocumentKind.track,
    subtitle: str = "",
    keywords: str = "",
    popularity: float = 0.0,
    owner_id: uuid.UUID | None = None,
    ref_id: uuid.UUID | None = None,
    **features: Any,
) -> SearchDocument:
    return SearchDocument(
        kind=kind,
        ref_id=ref_id or uuid.uuid4(),
        title=title,
        subtitle=subtitle,
        keywords=keywords,
        popularity=popularity,
        owner_id=owner_id,
        payload={"title": title, "popularity": popularity},
        **features,
    )


async def index(app: FastAPI, docs: Sequence[SearchDocument]) -> None:
    async with app.state.infra.db.session() as session:
        await service.index_documents(session, docs)


async def remove(app: FastAPI, kind: DocumentKind, ref_ids: Sequence[uuid.UUID]) -> None:
    async with app.state.infra.db.session() as session:
        await service.remove_documents(session, kind, ref_ids)


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], q: str = "", **params: Any
) -> dict[str, Any]:
    response = await client.get(SEARCH, params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def titles(
    client: httpx.AsyncClient, headers: dict[str, str], q: str = "", **params: Any
) -> list[str]:
    return [item["title"] for item in (await search(client, headers, q, **params))["items"]]

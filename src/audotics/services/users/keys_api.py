"""HTTP routes for the signed-in user's API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from audotics.gateway.auth import CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.gateway.pagination import Page, PageParams, page_params
from audotics.services.users import api_keys
from audotics.services.users.me_api import require_sign_in
from audotics.services.users.schemas import (
    MAX_ACTIVE_API_KEYS,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Identity,
)

router = APIRouter(prefix="/me/api-keys", tags=["me"], responses=PROBLEM_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key",
    description="The full key is in this answer only; store it now. "
    f"At most {MAX_ACTIVE_API_KEYS} keys can be active at once.",
)
async def create_api_key(
    body: ApiKeyCreate,
    identity: Annotated[Identity, require_sign_in("create API keys")],
    session: SessionDep,
) -> ApiKeyCreated:
    return await api_keys.create_api_key(session, identity.user_id, body.name)


@router.get("", response_model=Page[ApiKeyOut], summary="Your API keys (metadata only)")
async def list_api_keys(
    identity: CurrentUser,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    include_revoked: Annotated[bool, Query(description="Also list revoked keys")] = False,
) -> Page[ApiKeyOut]:
    items, total = await api_keys.list_api_keys(
        session,
        identity.user_id,
        include_revoked=include_revoked,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[ApiKeyOut].build(items, total, page)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
async def revoke_api_key(key_id: uuid.UUID, identity: CurrentUser, session: SessionDep) -> Response:
    """The key stops working at once. Another user's key is reported as not found."""
    await api_keys.revoke_api_key(session, identity.user_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

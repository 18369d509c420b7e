"""HTTP routes for administrators: accounts, roles and deactivation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from audotics.gateway.auth import AdminUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.gateway.pagination import Page, PageParams, page_params
from audotics.services.users import admin
from audotics.services.users.schemas import AdminUserUpdate, Role, UserAdminView

router = APIRouter(prefix="/admin/users", tags=["admin"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=Page[UserAdminView], summary="All accounts")
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    role: Annotated[Role | None, Query(description="Only this role")] = None,
    is_active: Annotated[bool | None, Query(description="Only active or deactivated")] = None,
) -> Page[UserAdminView]:
    users, total = await admin.list_users(
        session, role=role, is_active=is_active, limit=page.limit, offset=page.offset
    )
    return Page[UserAdminView].build(
        [UserAdminView.model_validate(user) for user in users], total, page
    )


@router.patch("/{user_id}", response_model=UserAdminView, summary="Change role or active state")
async def update_user(
    user_id: uuid.UUID, body: AdminUserUpdate, _admin: AdminUser, session: SessionDep
) -> UserAdminView:
    """The account's sign-ins end, so the change applies at once; one active admin remains."""
    return UserAdminView.model_validate(await admin.update_user(session, user_id, body))

"""HTTP routes of the user service: /auth/* here, /me, API keys and admin in their modules."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from audotics.gateway.auth import AuthConfigDep
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.services.users import admin_api, keys_api, me_api, service
from audotics.services.users.schemas import (
    Login,
    RefreshRequest,
    SignUp,
    TokenPair,
    UserPrivate,
)

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPrivate,
    tags=["auth"],
    summary="Create an account",
)
async def sign_up(body: SignUp, session: SessionDep, config: AuthConfigDep) -> UserPrivate:
    user = await service.sign_up(session, config, body)
    return UserPrivate.model_validate(user)


@router.post("/auth/login", response_model=TokenPair, tags=["auth"], summary="Sign in")
async def log_in(body: Login, session: SessionDep, config: AuthConfigDep) -> TokenPair:
    """Exchange an email (or username) and password for an access and a refresh token."""
    return await service.log_in(session, config, body.email, body.password)


@router.post(
    "/auth/refresh", response_model=TokenPair, tags=["auth"], summary="Rotate the refresh token"
)
async def refresh(body: RefreshRequest, session: SessionDep, config: AuthConfigDep) -> TokenPair:
    """A new pair; the refresh token sent is spent. Re-using a spent one revokes the sign-in."""
    return await service.rotate_refresh_token(session, config, body.refresh_token)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    summary="Revoke a sign-in",
)
async def log_out(body: RefreshRequest, session: SessionDep, config: AuthConfigDep) -> Response:
    await service.log_out(session, config, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


for _routes in (me_api.router, keys_api.router, admin_api.router):
    router.include_router(_routes)

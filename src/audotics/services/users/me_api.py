"""HTTP routes for the signed-in user's own account, and public profiles."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from audotics.gateway.auth import AuthConfigDep, CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.problems import Forbidden, NotFound
from audotics.services.personal_data import PersonalData
from audotics.services.users import account, service
from audotics.services.users.schemas import (
    USERNAME_PATTERN,
    AccountDeletion,
    Identity,
    PasswordChange,
    ProfileUpdate,
    TokenPair,
    UserPrivate,
    UserPublic,
)

router = APIRouter(responses=PROBLEM_RESPONSES)


def require_sign_in(action: str) -> Any:
    """Dependency: the caller used a password sign-in (access token), not an API key.

    An API key given to an app must not be able to take over the account.
    """

    async def check(identity: CurrentUser) -> Identity:
        if identity.via != "jwt":
            raise Forbidden(
                f"API keys cannot {action}; sign in with your password and use the access token.",
                title="Sign-in required",
            )
        return identity

    return Depends(check)


def get_personal_data(request: Request) -> PersonalData:
    registry: PersonalData = request.app.state.personal_data
    return registry


PersonalDataDep = Annotated[PersonalData, Depends(get_personal_data)]


@router.get("/me", response_model=UserPrivate, tags=["me"], summary="The signed-in user")
async def me(identity: CurrentUser, session: SessionDep) -> UserPrivate:
    return UserPrivate.model_validate(await service.get_user(session, identity.user_id))


@router.patch("/me", response_model=UserPrivate, tags=["me"], summary="Update your profile")
async def update_me(body: ProfileUpdate, identity: CurrentUser, session: SessionDep) -> UserPrivate:
    """Change any of display name, bio, email (unique) and preferences (replaced as a whole)."""
    user = await account.update_profile(session, identity.user_id, body)
    return UserPrivate.model_validate(user)


@router.get(
    "/users/{username}",
    response_model=UserPublic,
    tags=["users"],
    summary="A user's public profile",
)
async def public_profile(username: str, _caller: CurrentUser, session: SessionDep) -> UserPublic:
    name = username.lower()
    if not re.fullmatch(USERNAME_PATTERN, name):
        raise NotFound(f"No user named {username!r}.")
    return UserPublic.model_validate(await service.get_user_by_username(session, name))


@router.post(
    "/me/password",
    response_model=TokenPair,
    tags=["me"],
    summary="Change your password",
)
async def change_password(
    body: PasswordChange,
    identity: Annotated[Identity, require_sign_in("change the password")],
    session: SessionDep,
    config: AuthConfigDep,
) -> TokenPair:
    """Every existing sign-in ends (access and refresh tokens); the answer is a fresh pair."""
    return await account.change_password(
        session, config, identity.user_id, body.current_password, body.new_password
    )


@router.post(
    "/me/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["me"],
    summary="Sign out everywhere",
)
async def log_out_everywhere(
    identity: Annotated[Identity, require_sign_in("sign out every session")],
    session: SessionDep,
) -> Response:
    """Revoke every access and refresh token of the account; API keys keep working."""
    await service.log_out_everywhere(session, identity.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/export",
    tags=["me"],
    summary="Download all your data",
    response_class=JSONResponse,
    responses={200: {"description": "A JSON document with one section per service"}},
)
async def export_me(
    identity: Annotated[Identity, require_sign_in("export the account")],
    session: SessionDep,
    personal_data: PersonalDataDep,
) -> JSONResponse:
    document = await account.export_account(session, personal_data, identity.user_id)
    day = datetime.now(UTC).strftime("%Y%m%d")
    filename = f"audotics-{identity.username}-{day}.json"
    return JSONResponse(
        jsonable_encoder(document),
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["me"],
    summary="Delete your account and all its data",
)
async def delete_me(
    body: AccountDeletion,
    identity: Annotated[Identity, require_sign_in("delete the account")],
    session: SessionDep,
    config: AuthConfigDep,
    personal_data: PersonalDataDep,
) -> Response:
    """Needs the password. Every service's data for the account goes in one transaction."""
    await account.delete_account(session, config, personal_data, identity.user_id, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

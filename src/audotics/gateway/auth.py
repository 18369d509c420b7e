"""Authentication and authorization dependencies.

Credentials: ``Authorization: Bearer <access JWT | API key>`` or ``X-API-Key``.
The user service decides who the caller is; this module only reads headers,
remembers the caller on ``request.state.principal`` (rate limits use it) and
checks roles.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from audotics.gateway.deps import SessionDep
from audotics.problems import Forbidden, Unauthorized
from audotics.services.users import service as users
from audotics.services.users.schemas import Identity, Role

_bearer = HTTPBearer(auto_error=False, description="Access token (JWT) or API key")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


async def get_auth_config(request: Request) -> users.AuthConfig:
    # async: FastAPI runs a plain def dependency in a worker thread, one hop per request.
    config: users.AuthConfig = request.app.state.auth_config
    return config


AuthConfigDep = Annotated[users.AuthConfig, Depends(get_auth_config)]


async def optional_identity(
    request: Request,
    session: SessionDep,
    config: AuthConfigDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Identity | None:
    credential = bearer.credentials if bearer else api_key
    if not credential:
        return None
    identity = await users.identify(session, config, credential.strip())
    request.state.principal = identity
    return identity


async def require_identity(
    identity: Annotated[Identity | None, Depends(optional_identity)],
) -> Identity:
    if identity is None:
        raise Unauthorized("Send an access token or API key: Authorization: Bearer <token>.")
    return identity


CurrentUser = Annotated[Identity, Depends(require_identity)]
OptionalUser = Annotated[Identity | None, Depends(optional_identity)]


def require_role(role: Role) -> Any:
    """Dependency: the caller must hold ``role`` or a higher one."""

    async def check(identity: CurrentUser) -> Identity:
        if not identity.role.at_least(role):
            raise Forbidden(f"This needs the {role.value} role.")
        return identity

    return Depends(check)


CuratorUser = Annotated[Identity, require_role(Role.curator)]
AdminUser = Annotated[Identity, require_role(Role.admin)]

"""Following other listeners: the social graph the "popular with people you follow" source reads.

Edges come from importers (Last.fm friends) and from the listener through the API
(:func:`follow`, :func:`unfollow`). People are named by username and resolved through the
users service, so a deactivated account can neither be followed nor shows up in a list.
A listener follows at most :data:`~audotics.services.analytics.schemas.MAX_FOLLOWING`
people: the social source reads every followed user's listening on each request.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audotics.fields import as_utc
from audotics.infra.db import utcnow
from audotics.problems import Conflict, Unprocessable
from audotics.services.analytics import repository
from audotics.services.analytics.models import Follow
from audotics.services.analytics.schemas import MAX_FOLLOWING, FollowedUser, FollowList
from audotics.services.users import service as users
from audotics.services.users.schemas import UserPublic

API_SOURCE = "api"


async def follow(
    session: AsyncSession, user_id: uuid.UUID, username: str
) -> tuple[FollowedUser, bool]:
    """Follow ``username``; returns them and whether the edge is new (idempotent)."""
    target = await users.get_user_by_username(session, username)  # 404 when nobody
    if target.id == user_id:
        raise Unprocessable("You cannot follow yourself.")
    existing = {row.follows_user_id: row for row in await repository.follows_of(session, user_id)}
    if target.id in existing:
        return _followed(UserPublic.model_validate(target), existing[target.id]), False
    if len(existing) >= MAX_FOLLOWING:
        raise Conflict(
            f"You follow {len(existing)} people, the most allowed; unfollow someone first."
        )
    now = utcnow()
    await repository.insert_follows(
        session,
        [
            {
                "user_id": user_id,
                "follows_user_id": target.id,
                "source": API_SOURCE,
                "created_at": now,
            }
        ],
    )
    return FollowedUser(
        id=target.id, username=target.username, display_name=target.display_name, since=now
    ), True


async def unfollow(session: AsyncSession, user_id: uuid.UUID, username: str) -> bool:
    """Stop following ``username``; whether there was an edge to remove."""
    target = await users.get_user_by_username(session, username)
    return await repository.delete_follow(session, user_id, target.id)


async def following_list(session: AsyncSession, user_id: uuid.UUID) -> FollowList:
    """Whom the user follows, oldest first (deactivated accounts left out)."""
    edges = await repository.follows_of(session, user_id)
    return await _listed(session, edges, [edge.follows_user_id for edge in edges])


async def followers_list(session: AsyncSession, user_id: uuid.UUID) -> FollowList:
    """Who follows the user, oldest first."""
    edges = await repository.followers_of(session, user_id)
    return await _listed(session, edges, [edge.user_id for edge in edges])


async def _listed(
    session: AsyncSession, edges: Sequence[Follow], people: list[uuid.UUID]
) -> FollowList:
    accounts = await users.public_users(session, people)
    items = [
        _followed(accounts[person], edge)
        for edge, person in zip(edges, people, strict=True)
        if person in accounts
    ]
    return FollowList(items=items, total=len(items))


def _followed(account: UserPublic, edge: Follow) -> FollowedUser:
    return FollowedUser(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        since=as_utc(edge.created_at),
    )

"""Export and deletion of one user's data across services, without the services knowing each other.

Every service that stores data about a user contributes a section: it can
export it (for ``GET /me/export``) and delete it (for ``DELETE /me``). The user
service drives both through a :class:`PersonalData` registry that the
composition root fills, so it never imports another service.

Contract for a contributor (what a service lists in ``registry.PERSONAL_DATA``
provides in its ``service.py``)::

    async def export_user_data(session: AsyncSession, user_id: uuid.UUID) -> Any
        # JSON-serialisable (dicts, lists, str, numbers, bools, None, UUID, datetime);
        # never secrets such as password or key hashes.

    async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> None
        # Deletes (or anonymises) everything the service holds for the user.

Both run inside the caller's transaction on the session they receive: they
may flush but must never commit or roll back, so that an account deletion is
all or nothing across every service.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

EXPORT_FUNCTION = "export_user_data"
DELETE_FUNCTION = "delete_user_data"


@runtime_checkable
class PersonalDataContributor(Protocol):
    """One service's part of a user's data."""

    name: str

    async def export(self, session: AsyncSession, user_id: uuid.UUID) -> Any: ...

    async def delete(self, session: AsyncSession, user_id: uuid.UUID) -> None: ...


ExportFunction = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]
DeleteFunction = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


@dataclass
class ServiceContributor:
    """A contributor made of a service's two module-level functions."""

    name: str
    export_function: ExportFunction
    delete_function: DeleteFunction

    async def export(self, session: AsyncSession, user_id: uuid.UUID) -> Any:
        return await self.export_function(session, user_id)

    async def delete(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        await self.delete_function(session, user_id)


def contributor_from_module(
    name: str, module: ModuleType, resources: Mapping[str, Any] | None = None
) -> ServiceContributor:
    """Wrap ``module.export_user_data`` / ``module.delete_user_data``; fail loudly at start-up.

    ``resources`` (e.g. ``{"objects": ObjectStore}``) are passed to a function that
    declares a keyword parameter of that name, so a service whose data includes
    stored files can delete them too.
    """
    functions = {}
    for attribute in (EXPORT_FUNCTION, DELETE_FUNCTION):
        function = getattr(module, attribute, None)
        if not callable(function):
            raise TypeError(
                f"{module.__name__} is listed for personal data as {name!r} "
                f"but has no {attribute}(session, user_id) function"
            )
        accepted = inspect.signature(function).parameters
        wanted = {k: v for k, v in (resources or {}).items() if k in accepted}
        functions[attribute] = functools.partial(function, **wanted) if wanted else function
    return ServiceContributor(name, functions[EXPORT_FUNCTION], functions[DELETE_FUNCTION])


class PersonalData:
    """The contributors, in registration order."""

    def __init__(self, contributors: Iterable[PersonalDataContributor] = ()) -> None:
        self._contributors: list[PersonalDataContributor] = []
        for contributor in contributors:
            self.register(contributor)

    def register(self, contributor: PersonalDataContributor) -> None:
        name = getattr(contributor, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError("a personal-data contributor needs a non-empty name")
        if name in self.names:
            raise ValueError(f"a personal-data contributor named {name!r} is already registered")
        self._contributors.append(contributor)

    @property
    def names(self) -> list[str]:
        return [contributor.name for contributor in self._contributors]

    async def export_all(self, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
        """Every contributor's section, keyed by its name."""
        return {c.name: await c.export(session, user_id) for c in self._contributors}

    async def delete_all(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """Delete through every contributor, last registered first, in the caller's transaction.

        The user service registers first, so the account row goes last and rows
        of other services that refer to it are gone by then. Each step is
        flushed so a failure surfaces here, before anything is committed; the
        caller's rollback then undoes every step.
        """
        for contributor in reversed(self._contributors):
            await contributor.delete(session, user_id)
            await session.flush()

"""The services that make up the platform, in mount order.

Adding a service means adding its ``api.router`` here; nothing else wires routes.
A service that stores data about users also lists itself in ``PERSONAL_DATA``
(see :mod:`audotics.services.personal_data` for the two functions it provides).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from audotics.services.personal_data import PersonalDataContributor, contributor_from_module

SERVICES: tuple[str, ...] = (
    "users",
    "catalog",
    "search",
    "playlists",
    "analytics",
    "recommendations",
)

# Services whose service.py provides export_user_data() and delete_user_data().
# "users" stays first: deletion runs last-registered first, so the account row goes last.
PERSONAL_DATA: tuple[str, ...] = ("users", "catalog", "playlists", "analytics")


def routers() -> list[APIRouter]:
    found = []
    for name in SERVICES:
        module = importlib.import_module(f"audotics.services.{name}.api")
        found.append(module.router)
    return found


def personal_data_contributors(
    resources: Mapping[str, Any] | None = None,
) -> list[PersonalDataContributor]:
    return [
        contributor_from_module(
            name, importlib.import_module(f"audotics.services.{name}.service"), resources
        )
        for name in PERSONAL_DATA
    ]

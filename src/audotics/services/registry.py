"""The services that make up the platform, in mount order.

Adding a service means adding its ``api.router`` here; nothing else wires routes.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

SERVICES: tuple[str, ...] = ("users",)


def routers() -> list[APIRouter]:
    found = []
    for name in SERVICES:
        module = importlib.import_module(f"audotics.services.{name}.api")
        found.append(module.router)
    return found

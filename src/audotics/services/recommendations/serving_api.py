"""The application's serving state as a FastAPI dependency (shared by this service's routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from audotics.services.recommendations.service import serving_states
from audotics.services.recommendations.serving import ServingStateCache


async def get_serving_states(request: Request) -> ServingStateCache:
    """One serving state per application; the model holder comes from the app's start-up.

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in a
    worker thread, a thread hop on every request for an attribute lookup."""
    return serving_states(request.app.state)


ServingStatesDep = Annotated[ServingStateCache, Depends(get_serving_states)]

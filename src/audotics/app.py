"""Composition root for HTTP: builds the backends, the gateway and every service router."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse

from audotics import __version__
from audotics.config import Settings
from audotics.gateway.bodylimit import BodySizeLimitMiddleware
from audotics.gateway.errors import document_problems, install_error_handlers, problem_response
from audotics.gateway.metrics import Metrics, MetricsMiddleware, metrics_endpoint
from audotics.gateway.ratelimit import RateLimiter
from audotics.gateway.requestid import RequestIdMiddleware
from audotics.infra import migrate
from audotics.infra.factory import Infra, build_infra
from audotics.infra.secrets import signing_secret
from audotics.ml.cf.registry import ModelHolder, ModelRegistry
from audotics.services.personal_data import PersonalData
from audotics.services.registry import personal_data_contributors
from audotics.services.users.service import AuthConfig
from audotics.workers import BackgroundWork, close_handlers, register_handlers, stop_handlers

logger = logging.getLogger("audotics")

API_PREFIX = "/api/v1"

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "auth", "description": "Sign-up, sign-in and token refresh."},
    {"name": "me", "description": "The signed-in user's profile, API keys and data."},
    {"name": "users", "description": "Other users' public profiles."},
    {"name": "admin", "description": "Accounts and roles (administrators)."},
    {"name": "catalog", "description": "Artists, albums, tracks and audio."},
    {"name": "playlists", "description": "Playlists, their tracks and collaborators."},
    {"name": "search", "description": "Full-text, prefix and typo-tolerant search."},
    {"name": "listens", "description": "Listening events and statistics."},
    {"name": "recommendations", "description": "Personal recommendations and taste profiles."},
]


def _include_service_routers(app: FastAPI) -> None:
    """Every service exposes ``router`` from its ``api`` module."""
    from audotics.services import registry

    for router in registry.routers():
        app.include_router(router, prefix=API_PREFIX)


def _problem_schema(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="Audotics API",
        version=__version__,
        description="Self-hostable music recommendation platform. Errors are RFC 9457 "
        "`application/problem+json` documents.",
        routes=app.routes,
        tags=TAGS,
    )
    document_problems(schema)
    security = schema["components"].setdefault("securitySchemes", {})
    security["bearer"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    security["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    app.openapi_schema = schema
    return schema


def freeze_startup_objects() -> int:
    """Move every object alive now out of the cyclic garbage collector's sight; returns
    how many are frozen.

    A served process holds ~200k tracked objects from start-up (modules, the app,
    SQLAlchemy's, pydantic's and numba's registries) for its whole life, and each full
    collection walked all of them: a 100-400 ms pause of every request in flight, once
    every few hundred requests. Frozen, they are still freed by reference counting; only
    cycles among them would outlive the process, which start-up objects do anyway.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def create_served_app() -> FastAPI:
    """The app of an ``audotics serve`` process: like :func:`create_app`, and when it stops,
    the process-wide analysis pool stops with it. (uvicorn re-raises SIGTERM after the
    lifespan ends, so nothing after ``uvicorn.run`` would run; tests building many apps in
    one process keep the pool.)"""
    return create_app(owns_process=True)


def create_app(
    settings: Settings | None = None, infra: Infra | None = None, *, owns_process: bool = False
) -> FastAPI:
    settings = settings or (infra.settings if infra else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = infra is None
        state: Infra = infra or build_infra(settings)
        if settings.auto_migrate:
            await asyncio.to_thread(migrate.upgrade, state.db.url)
        app.state.infra = state
        app.state.rate_limiter = RateLimiter.from_settings(settings)
        app.state.auth_config = AuthConfig.from_settings(settings, signing_secret(settings))
        app.state.personal_data = PersonalData(
            personal_data_contributors({"objects": state.objects})
        )
        # The served CF model: loaded now if one is registered, hot-swapped when a newer
        # version is published (audotics train); recommendations work without one.
        # Loaded in the background: a slow or unreachable object store must not hold up
        # start-up (recommendations fall back to the other sources until it loads).
        holder = ModelHolder(ModelRegistry(state.objects))
        app.state.model_holder = holder
        holder_start = asyncio.create_task(holder.start(), name="cf-model-holder-start")
        background: BackgroundWork | None = None
        if settings.runs_embedded_worker:
            register_handlers(state)
            background = BackgroundWork(state, concurrency=settings.worker_concurrency)
            background.start()
        if owns_process:
            freeze_startup_objects()
        try:
            yield
        finally:
            holder_start.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder_start
            await holder.stop()
            if background is not None:
                # Handler start-up work (the analysis re-queue) holds pooled connections:
                # it ends before the engine is disposed below, or they are never closed.
                await stop_handlers(state)
                await background.shutdown()
                if owns_process:
                    close_handlers()
            await app.state.rate_limiter.close()
            if owned:
                await state.close()

    app = FastAPI(
        title="Audotics API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.metrics = Metrics()
    # The last added runs first: request id, then metrics, then the body limit, so the
    # metrics see what the client got, a 413 included.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag", "Content-Range"],
        )
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: database, cache, object store, queue and events answer",
        responses={503: {"description": "A dependency is down"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        state: Infra = request.app.state.infra
        checks: dict[str, str] = {}
        probes = {
            "database": state.db.ping,
            "cache": state.cache.ping,
            "objects": state.objects.ping,
            "queue": state.queue.ping,
            "events": state.events.ping,
        }
        for name, probe in probes.items():
            try:
                await asyncio.wait_for(probe(), timeout=3.0)
                checks[name] = "ok"
            except Exception as exc:  # any failure means not ready
                checks[name] = f"error: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failed = ", ".join(k for k, v in checks.items() if v != "ok")
        return problem_response(
            request, 503, "not-ready", "Not ready", f"Unavailable: {failed}.", checks=checks
        )

    app.add_api_route(
        "/metrics",
        metrics_endpoint,
        methods=["GET"],
        tags=["health"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    _include_service_routers(app)
    app.openapi = lambda: _problem_schema(app)  # type: ignore[method-assign]
    return app

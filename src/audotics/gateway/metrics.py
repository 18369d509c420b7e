"""Prometheus metrics: request counts and latencies by route template, served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import fastapi.routing
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The label of a request no route took (unknown paths, slash redirects): one label, so
# scanners probing random paths cannot grow the label set.
UNMATCHED = "unmatched"


class Metrics:
    """One registry per app, so several apps in one process (tests) don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "audotics_http_requests_total",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "audotics_http_request_duration_seconds",
            "HTTP request latency by method and route",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _route_contexts(routes: list[BaseRoute]) -> Iterator[Any]:
    # FastAPI >= 0.137 keeps an included router as one node of a tree in app.routes;
    # iter_route_contexts (0.137.2, meant for integrations) flattens it, each entry with
    # its full prefixed path. Older versions copied every included route into app.routes.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return iter(routes) if flatten is None else flatten(routes)


class RouteLabels:
    """The label of a request: the full path template of the route that took it.

    FastAPI records the APIRoute it selected (also for a 405, a partial match) in
    ``scope["route"]``: the route as declared, whose path lacks the prefixes it was
    included under, so it is looked up in a table of full templates made once from the
    app's routes. The routes FastAPI does not record there (plain routes such as /docs,
    mounts) are few; only those are matched, against the path as it came in (a mount
    rewrites ``root_path``). A mount is labelled by its own template (``/static/{path}``),
    never by the file or sub-path asked for.
    """

    def __init__(self) -> None:
        # id(route) -> (route, full template, or None for a route not among the app's own,
        # e.g. one inside a mounted sub-app). The route is kept so an id is never reused.
        self._templates: dict[int, tuple[BaseRoute, str | None]] = {}
        self._unrecorded: list[Any] = []
        self._routes: list[BaseRoute] | None = None

    def _build(self, routes: list[BaseRoute]) -> None:
        templates: dict[int, tuple[BaseRoute, str | None]] = {}
        unrecorded: list[Any] = []
        for context in _route_contexts(routes):
            template = getattr(context, "path_format", None)
            if not isinstance(template, str):
                continue  # a Host route has no path template
            original: BaseRoute = getattr(context, "original_route", context)
            # A router included twice gives one route two templates; the first is kept.
            templates.setdefault(id(original), (original, template))
            if not isinstance(original, fastapi.routing.APIRoute):
                unrecorded.append(context)
        # Keep what was learnt about foreign routes, or each would cost a rebuild again.
        for key, known in self._templates.items():
            if known[1] is None:
                templates.setdefault(key, known)
        self._templates, self._unrecorded, self._routes = templates, unrecorded, routes

    def label(self, routes: list[BaseRoute], scope: Scope, path: str, root_path: str) -> str:
        """``path`` and ``root_path`` as the request came in, before routing changed them."""
        if self._routes is not routes:
            self._build(routes)
        route = scope.get("route")
        if route is not None:
            known = self._templates.get(id(route))
            if known is None or known[0] is not route:
                # Added after the table was made, or not one of the app's routes: look
                # once more, then remember the answer (routes are finite, so is this).
                self._build(routes)
                known = self._templates.get(id(route))
                if known is None or known[0] is not route:
                    known = (route, None)
                    self._templates[id(route)] = known
            if known[1] is not None:
                return known[1]
        if not self._unrecorded:
            return UNMATCHED
        original = {
            "type": "http",
            "path": path,
            "root_path": root_path,
            "method": scope.get("method", "GET"),
            "headers": scope.get("headers", []),
        }
        partial: str | None = None
        for context in self._unrecorded:
            match, _ = context.matches(original)
            if match == Match.FULL:
                return str(context.path_format)
            if match == Match.PARTIAL and partial is None:
                partial = str(context.path_format)
        return partial or UNMATCHED


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.labels = RouteLabels()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # As they came in: a mount rewrites root_path, a mounted app sets scope["app"].
        path, root_path = scope["path"], scope.get("root_path", "")
        routes: list[BaseRoute] = getattr(scope.get("app"), "routes", [])

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = self.labels.label(routes, scope, path, root_path)
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return metrics.render()

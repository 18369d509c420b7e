"""Route labels of the request metrics on a small app with every kind of route the gateway
can meet: nested included routers, plain routes, a mounted sub-app, static files at the top
and inside a router."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from audotics.gateway.metrics import Metrics, MetricsMiddleware


def _app(static_dir: Path) -> FastAPI:
    inner = APIRouter(prefix="/items")

    @inner.get("/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        if item_id != 1:
            raise HTTPException(404)
        return {"id": item_id}

    @inner.post("/{item_id}/boom")
    async def boom(item_id: int) -> None:
        raise RuntimeError("a bug")

    outer = APIRouter()
    outer.include_router(inner, prefix="/shop")
    outer.mount("/assets", StaticFiles(directory=static_dir))
    app = FastAPI()
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(outer, prefix="/api/v1")

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app.add_route("/plain", hello, methods=["GET"])
    sub = Starlette(routes=[Route("/hello/{name}", hello)])
    app.mount("/sub/{tenant}", sub)
    app.mount("/static", StaticFiles(directory=static_dir))
    return app


# (method, path, status, label)
REQUESTS = [
    ("GET", "/ping", 200, "/ping"),
    ("GET", "/api/v1/shop/items/1", 200, "/api/v1/shop/items/{item_id}"),
    ("GET", "/api/v1/shop/items/2", 404, "/api/v1/shop/items/{item_id}"),
    ("GET", "/api/v1/shop/items/x", 422, "/api/v1/shop/items/{item_id}"),
    ("DELETE", "/api/v1/shop/items/1", 405, "/api/v1/shop/items/{item_id}"),
    ("POST", "/api/v1/shop/items/1/boom", 500, "/api/v1/shop/items/{item_id}/boom"),
    ("GET", "/plain", 200, "/plain"),
    ("POST", "/plain", 405, "/plain"),
    ("GET", "/sub/acme/hello/bob", 200, "/sub/{tenant}/{path}"),
    ("GET", "/sub/other/nothing-here", 404, "/sub/{tenant}/{path}"),
    ("GET", "/static/a.txt", 200, "/static/{path}"),
    ("GET", "/static/missing.txt", 404, "/static/{path}"),
    ("GET", "/api/v1/assets/a.txt", 200, "/api/v1/assets/{path}"),
    ("GET", "/nowhere", 404, "unmatched"),
    ("GET", "/api/v1/shop/nowhere/3", 404, "unmatched"),
]


async def _labels(app: FastAPI, order: list[int]) -> list[tuple[str, str, str]]:
    """Send the requests in ``order``; the labels recorded for each, in REQUESTS order."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for i in order:
            method, path, status, _ = REQUESTS[i]
            response = await client.request(method, path)
            assert response.status_code == status, (method, path, response.text)
        scrape = app.state.metrics.render().body.decode()
    found: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if sample.name == "audotics_http_requests_total":
                key = (sample.labels["method"], sample.labels["route"], sample.labels["status"])
                found[key] = sample.value
    expected: dict[tuple[str, str, str], float] = {}
    for method, _, status, label in REQUESTS:
        key = (method, label, str(status))
        expected[key] = expected.get(key, 0) + 1
    assert found == expected
    return sorted(found)


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text("a")
    return tmp_path


@pytest.mark.parametrize("seed", range(4))
async def test_every_request_is_labelled_by_its_full_template_in_any_order(
    static_dir: Path, seed: int
) -> None:
    order = list(range(len(REQUESTS)))
    random.Random(seed).shuffle(order)
    assert await _labels(_app(static_dir), order) == await _labels(
        _app(static_dir), list(range(len(REQUESTS)))
    )


async def test_a_route_added_after_the_first_request_gets_its_template(static_dir: Path) -> None:
    app = _app(static_dir)
    late = APIRouter()

    @late.get("/late/{n}")
    async def late_route(n: int) -> int:
        return n

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/ping")).status_code == 200
        app.include_router(late, prefix="/v2")
        assert (await client.get("/v2/late/3")).status_code == 200
    scrape = app.state.metrics.render().body.decode()
    assert 'route="/v2/late/{n}",status="200"' in scrape
    assert "/v2/late/3" not in scrape

"""The platform answers its probes and documents itself, on both databases."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.factories import sign_up

PROBLEM = "application/problem+json"


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]


async def test_readyz_checks_every_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks == dict.fromkeys(("database", "cache", "objects", "queue", "events"), "ok")


async def test_readyz_reports_a_dead_database(client: httpx.AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    original = app.state.infra.db.ping

    async def broken() -> None:
        raise ConnectionError("database down")

    app.state.infra.db.ping = broken
    try:
        response = await client.get("/readyz")
    finally:
        app.state.infra.db.ping = original
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["checks"]["database"].startswith("error")
    assert "database" in body["detail"]


async def test_request_id_is_echoed_when_sane(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == 404


async def test_openapi_documents_problem_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "Problem" in schema["components"]["schemas"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def _request_counts(text: str) -> dict[tuple[str, str, str], float]:
    """(method, route, status) -> count, from a /metrics scrape."""
    counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "audotics_http_requests_total":
                labels = sample.labels
                counts[labels["method"], labels["route"], labels["status"]] = sample.value
    return counts


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "metered")
    missing = uuid.uuid4()
    answers = [
        (await client.get("/healthz")).status_code,
        (await client.get(f"/api/v1/tracks/{missing}", headers=user.headers)).status_code,
        (await client.get("/api/v1/does-not-exist")).status_code,
        (await client.get(f"/api/v1/does-not-exist/{missing}")).status_code,
        (await client.delete("/api/v1/auth/login")).status_code,
        (await client.post("/healthz")).status_code,
    ]
    assert answers == [200, 404, 404, 404, 405, 405]
    response = await client.get("/metrics")
    assert response.status_code == 200
    counts = _request_counts(response.text)
    # A route that answers 404 for a missing object is still that route, by its full
    # template (the router's /api/v1 prefix included), never by the id asked for.
    assert counts["GET", "/api/v1/tracks/{track_id}", "404"] == 1
    assert counts["GET", "/healthz", "200"] == 1
    assert counts["POST", "/api/v1/auth/signup", "201"] == 1
    # Paths no route knows share one label, whatever was asked.
    assert counts["GET", "unmatched", "404"] == 2
    # A method a route does not take: the route that matched the path.
    assert counts["DELETE", "/api/v1/auth/login", "405"] == 1
    assert counts["POST", "/healthz", "405"] == 1
    assert not any(str(missing) in route for _, route, _ in counts)
    assert "audotics_http_request_duration_seconds_bucket" in response.text


async def test_oversized_json_body_is_413_problem(client: httpx.AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * (100 * 1024)

    streamed = await client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["status"] == 413
    # Both refusals are counted: refused by their declared length before any route took
    # them, or by the route's body as it streamed in.
    counts = _request_counts((await client.get("/metrics")).text)
    assert counts["POST", "unmatched", "413"] == 1
    assert counts["POST", "/api/v1/auth/login", "413"] == 1

"""The platform answers its probes and documents itself, on both databases."""

from __future__ import annotations

import httpx

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


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/api/v1/does-not-exist")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'audotics_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "audotics_http_request_duration_seconds_bucket" in text


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

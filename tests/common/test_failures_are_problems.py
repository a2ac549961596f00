"""A database outage is a 503 the client can retry, never a 500 or a hang."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from harambee_common.problems import install_problem_handlers
from harambee_stack.ports import free_port
from tests.support.services import patched_env


def test_database_outage_is_a_retryable_problem(issuer, broker):
    nowhere = f"postgresql+psycopg://assessment_app@127.0.0.1:{free_port()}/none?connect_timeout=2"
    env = {"DATABASE_URL": nowhere, "RELAY_DATABASE_URL": nowhere,
           "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, **issuer.env()}
    with patched_env(env):
        from harambee_assessment.app import create_app

        app = create_app()
    client = TestClient(app)  # no lifespan: the relay and consumers are not the point here
    headers = issuer.headers(tenants={"ke-mombasa": ["case_worker"]}, scope="cases:read")
    response = client.get("/v1/tenants/ke-mombasa/cases", headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] is False


def test_a_client_that_hangs_up_before_its_body_is_read_is_no_error(caplog):
    """A client's own timeout is not our failure: no traceback in the log, and a problem, not a 500."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/form")
    async def read_form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/form", "raw_path": b"/form", "query_string": b"",
             "headers": [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"20")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    with caplog.at_level("INFO"):
        asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert (b"content-type", b"application/problem+json") in start["headers"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]

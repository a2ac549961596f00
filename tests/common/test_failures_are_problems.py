"""A database outage is a 503 the client can retry, never a 500 or a hang."""

from __future__ import annotations

from fastapi.testclient import TestClient

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

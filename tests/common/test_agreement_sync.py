"""A new service loads its copy of the agreements from the registry's read API, every page of it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from harambee_common.agreement_sync import AgreementSync
from harambee_common.agreements import version_gaps
from harambee_common.db import create_db_engine, session_factory
from harambee_common.migrations import upgrade
from tests.support.agreements import agreement_view
from tests.support.services import patched_env, rows


class StandInRegistry:
    """The gateway's token endpoint and /registry/v1/agreements, paged two at a time."""

    def __init__(self, agreements: list[dict[str, Any]]) -> None:
        self.agreements = agreements
        self.token_requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                registry.token_requests.append(self.headers.get("Authorization", ""))
                self._json({"access_token": "t", "token_type": "Bearer"})

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != "Bearer t":
                    self.send_response(401)
                    self.end_headers()
                    return
                query = parse_qs(urlsplit(self.path).query)
                start = int(query.get("cursor", ["0"])[0])
                page = registry.agreements[start:start + 2]
                more = start + 2 < len(registry.agreements)
                self._json({"items": page, "next_cursor": str(start + 2) if more else None})

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def assessment_db(postgres):
    database = postgres.provision("assessment")
    upgrade(package="harambee_assessment", url=database.owner)
    return database


def test_sync_loads_every_page_into_each_tenants_copy_and_never_goes_back(assessment_db):
    views = [agreement_view(tenant=t, parties=[("tenant", "ke-national")], operations=["read_aggregates"])
             for t in ("ke-mombasa", "ke-nairobi", "ke-kisumu", "ke-mombasa", "ke-nakuru")]
    registry = StandInRegistry(views)
    sync = AgreementSync(sessions=session_factory(create_db_engine(assessment_db.app)), gateway_url=registry.url,
                         client_id="assessment-service", client_secret="s3cret")
    try:
        assert sync.sync_once() == 5
        stored = rows(assessment_db.owner, "SELECT agreement_id::text, tenant_id, version FROM agreement_copies")
        assert sorted((r[0], r[1]) for r in stored) == sorted((v["id"], v["tenant"]) for v in views)
        assert registry.token_requests[0].startswith("Basic ")

        # A later version that arrived as an event is not overwritten by an older one from the registry.
        newer = {**views[0], "version": 3, "status": "suspended"}
        registry.agreements = [newer]
        sync.sync_once()
        registry.agreements = [views[0]]
        sync.sync_once()
        [(status, version)] = rows(assessment_db.owner, "SELECT status, version FROM agreement_copies "
                                   "WHERE agreement_id = :a", a=views[0]["id"])
        assert (status, version) == ("suspended", 3)
    finally:
        registry.server.shutdown()


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_copy_is_fresh_only_within_the_bound_after_the_registry_last_answered(assessment_db):
    view = agreement_view(tenant="ke-mombasa", parties=[("tenant", "ke-national")], operations=["read_aggregates"])
    registry, clock = StandInRegistry([view]), Clock()
    sync = AgreementSync(sessions=session_factory(create_db_engine(assessment_db.app)), gateway_url=registry.url,
                         client_id="assessment-service", client_secret="s3cret", max_age_seconds=900, clock=clock)
    try:
        assert not sync.fresh()  # never confirmed
        sync.run_once()
        clock.now += 900
        assert sync.fresh()
        clock.now += 1
        assert not sync.fresh()
        registry.server.shutdown()  # the registry is away: the copy stays stale
        with pytest.raises(httpx.HTTPError):
            sync.run_once()
        assert not sync.fresh()
    finally:
        registry.server.server_close()


def test_an_event_that_skips_versions_makes_the_sync_ask_the_registry_at_once(assessment_db):
    view = agreement_view(tenant="ke-mombasa", parties=[("tenant", "ke-national")], operations=["read_aggregates"])
    registry = StandInRegistry([view])
    sync = AgreementSync(sessions=session_factory(create_db_engine(assessment_db.app)), gateway_url=registry.url,
                         client_id="assessment-service", client_secret="s3cret", interval_seconds=3600)
    sync.start()
    try:
        assert wait_for(lambda: sync.last_synced is not None)
        registry.agreements = [{**view, "version": 4, "status": "suspended"}]
        version_gaps.report()  # what agreements.on_agreement_event does on a jump
        assert wait_for(lambda: rows(assessment_db.owner, "SELECT version FROM agreement_copies WHERE "
                                     "agreement_id = :a", a=view["id"]) == [(4,)])
    finally:
        sync.stop()
        registry.server.shutdown()


def test_a_service_that_applies_agreements_is_unready_without_a_copy_the_registry_confirmed(assessment_db, broker):
    env = {**assessment_db.env(), "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    with patched_env(env):
        from harambee_assessment.app import create_app

        app = create_app()  # no registry client configured
    ready = TestClient(app).get("/readyz")  # no lifespan: no worker runs
    assert ready.status_code == 503 and ready.json()["checks"]["agreements"] is False


def wait_for(check, *, seconds: float = 20.0) -> bool:
    """Polls check (a bounded number of times) until it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False

"""A new service loads its copy of the agreements from the registry's read API, every page of it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harambee_common.agreement_sync import AgreementSync
from harambee_common.db import create_db_engine, session_factory
from harambee_common.migrations import upgrade
from tests.support.agreements import agreement_view
from tests.support.services import rows


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

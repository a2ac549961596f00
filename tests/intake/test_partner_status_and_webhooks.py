"""Closing the loop with the referrer: a minimal status, and signed webhooks with retries and a log."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from harambee_common.problems import ValidationFailed
from harambee_intake.config import WebhookConfig
from harambee_intake.webhooks.delivery import DESTINATION_REFUSED, WebhookDispatcher, _Job
from harambee_intake.webhooks.service import check_url
from tests.intake.helpers import Desk, agree, dump, outbox, person
from tests.support.services import patched_env, rows, running_service

TOLERANCE_SECONDS = 300


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> bool:
    """The documented check, and nothing of the service's code: HMAC-SHA256 over "<timestamp>." + body."""
    timestamp = headers.get("Harambee-Webhook-Timestamp", "")
    signature = headers.get("Harambee-Webhook-Signature", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, "v1=" + expected)


class Receiver:
    """A partner's webhook endpoint on 127.0.0.1: verifies each request, answers as scripted."""

    def __init__(self) -> None:
        self.secret = ""
        self.answers: list[int] = []  # status codes for the next verified requests; then 200
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/harambee"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items()}
                verified = verify(receiver.secret, headers, body)
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append({"headers": headers, "body": body, "verified": verified,
                                              "at": time.monotonic()})
                    status = (receiver.answers.pop(0) if receiver.answers else 200) if verified else 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def wait_for(self, count: int, *, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The first `count` requests, waiting at most `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {len(self.requests)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    env = {"INTAKE_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1", "INTAKE_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
           "INTAKE_WEBHOOK_POLL_SECONDS": "0.1", "INTAKE_WEBHOOK_MAX_ATTEMPTS": "4",
           "INTAKE_WEBHOOK_TIMEOUT_SECONDS": "1.5", "INTAKE_WEBHOOK_HOLD_SECONDS": "0.5"}
    with patched_env(env), running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def subscribe(desk: Desk, receiver: Receiver, org: str) -> dict[str, Any]:
    response = desk.post("/webhooks", {"url": receiver.url, "description": "case system"},
                         headers=desk.partner(org))
    assert response.status_code == 201, response.text
    created = response.json()
    receiver.secret = created["secret"]
    return created


def screen(desk: Desk, referral_id: str, decision: dict[str, Any]):
    etag = desk.get(f"/referrals/{referral_id}").headers["etag"]
    response = desk.client.post(f"{desk.base}/referrals/{referral_id}/screening", json=decision,
                                headers={**desk.officer(), "If-Match": etag})
    assert response.status_code == 200, response.text
    return response


def deliveries(desk: Desk, webhook_id: str, org: str) -> list[dict[str, Any]]:
    response = desk.get(f"/webhooks/{webhook_id}/deliveries", headers=desk.partner(org))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_until(check, *, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def partner_status(desk: Desk, referral_id: str, org: str) -> str:
    response = desk.get(f"/referrals/{referral_id}", headers=desk.partner(org))
    assert set(response.json()) == {"id", "status", "received_at"}
    return response.json()["status"]


def test_a_partner_sees_received_then_under_consideration_then_closed(desk):
    org = "school-cso"
    accepted = desk.submit(person("Juma", "Bakari", "2004-04-04"), org=org)["id"]
    assert partner_status(desk, accepted, org) == "received"
    etag = desk.get(f"/referrals/{accepted}").headers["etag"]
    assert desk.patch(f"/referrals/{accepted}", {"screener": "me"}, etag).status_code == 200
    assert partner_status(desk, accepted, org) == "under_consideration"
    screen(desk, accepted, {"outcome": "accept"})
    assert partner_status(desk, accepted, org) == "under_consideration"
    closed = []
    for decision in ({"outcome": "escalate", "grounds": "risk_to_life"},
                     {"outcome": "signpost", "service": "health"},
                     {"outcome": "no_further_action", "reason": "malicious"}):
        referral_id = desk.submit(person("Ali", "Hassan", "1999-09-09"), org=org)["id"]
        screen(desk, referral_id, decision)
        assert partner_status(desk, referral_id, org) == "closed"
        closed.append(referral_id)
    waiting = desk.submit(person("Said", "Omar", "2001-01-01"), org=org)["id"]

    def listed(status: str) -> set[str]:
        response = desk.get("/referrals", headers=desk.partner(org), status=status, limit=100)
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    assert listed("closed") == set(closed)
    assert listed("under_consideration") == {accepted}
    assert listed("received") == {waiting}
    assert desk.get("/referrals", headers=desk.partner(org), status="screened").status_code == 422
    assert desk.get("/referrals", headers=desk.partner(org), outcome="accept").status_code == 403


def test_a_status_change_is_delivered_signed_to_the_partners_webhook(intake, desk, receiver):
    org = "signed-cso"
    webhook = subscribe(desk, receiver, org)
    assert "HMAC-SHA256" in webhook["signature_scheme"]
    referral_id = desk.submit(person("Neema", "Akinyi", "2011-11-11"), org=org)["id"]
    screen(desk, referral_id, {"outcome": "no_further_action", "reason": "misguided",
                               "note": "Her views only; nothing she did."})
    [request] = receiver.wait_for(1)
    assert request["verified"] is True
    payload = json.loads(request["body"])
    assert payload["type"] == "referral.status_changed" and payload["tenant"] == desk.tenant
    assert payload["data"] == {"referral_id": referral_id, "status": "closed", "previous_status": "received"}
    assert request["headers"]["Harambee-Webhook-Id"] == payload["id"]
    assert "misguided" not in request["body"].decode() and "Neema" not in request["body"].decode()

    [logged] = wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "delivered"])
    assert logged["id"] == payload["id"] and logged["attempts"] == 1
    assert logged["attempt_log"][0]["status_code"] == 200
    _, database = intake
    assert webhook["secret"] not in dump(database.owner, "webhook_subscriptions")


def test_a_receiver_detects_a_bad_signature(desk, receiver):
    org = "careful-cso"
    webhook = subscribe(desk, receiver, org)
    assert desk.post(f"/webhooks/{webhook['id']}/ping", headers=desk.partner(org)).status_code == 202
    [request] = receiver.wait_for(1)
    headers, body = request["headers"], request["body"]
    assert verify(webhook["secret"], headers, body)
    assert not verify("whsec_not-the-secret", headers, body)
    assert not verify(webhook["secret"], headers, body.replace(b"webhook.ping", b"webhook.pong"))
    stamp = int(headers["Harambee-Webhook-Timestamp"])
    assert not verify(webhook["secret"], {**headers, "Harambee-Webhook-Timestamp": str(stamp + 1)}, body)
    assert not verify(webhook["secret"], headers, body, now=stamp + TOLERANCE_SECONDS + 1)  # a replay


def test_a_receiver_with_the_wrong_secret_refuses_and_the_log_shows_it(desk, receiver):
    org = "rotated-cso"
    webhook = subscribe(desk, receiver, org)
    receiver.secret = "whsec_an-old-secret"
    desk.post(f"/webhooks/{webhook['id']}/ping", headers=desk.partner(org))
    requests = receiver.wait_for(4, timeout=20)
    assert not any(r["verified"] for r in requests)
    [failed] = wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "failed"])
    assert failed["attempts"] == 4 and [a["status_code"] for a in failed["attempt_log"]] == [401] * 4
    assert failed["last_error"] == "HTTP 401"

    receiver.secret = webhook["secret"]
    retried = desk.post(f"/webhooks/{webhook['id']}/deliveries/{failed['id']}/retry", headers=desk.partner(org))
    assert retried.status_code == 202
    assert receiver.wait_for(5)[-1]["verified"] is True
    wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "delivered"])


def test_failed_deliveries_are_retried_with_growing_backoff(desk, receiver):
    org = "flaky-cso"
    webhook = subscribe(desk, receiver, org)
    receiver.answers = [503, 500]
    referral_id = desk.submit(person("Musa", "Kombo", "2002-02-02"), org=org)["id"]
    screen(desk, referral_id, {"outcome": "accept"})
    requests = receiver.wait_for(3)
    assert all(r["verified"] for r in requests)
    assert len({r["headers"]["Harambee-Webhook-Id"] for r in requests}) == 1
    first_gap, second_gap = (requests[1]["at"] - requests[0]["at"]), (requests[2]["at"] - requests[1]["at"])
    assert 0.3 < first_gap < second_gap
    [delivered] = wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "delivered"])
    assert [a["status_code"] for a in delivered["attempt_log"]] == [503, 500, 200]


def test_a_slow_receiver_never_blocks_the_request_that_changed_the_status(desk, receiver):
    org = "slow-cso"
    subscribe(desk, receiver, org)
    receiver.delay = 6.0
    referral_id = desk.submit(person("Said", "Omar", "2001-01-01"), org=org)["id"]
    started = time.monotonic()
    screen(desk, referral_id, {"outcome": "accept"})
    # Well short of the receiver's delay, with room for a loaded CI machine's slow request.
    assert time.monotonic() - started < receiver.delay / 2
    receiver.wait_for(1, timeout=15)


def test_partners_manage_and_read_only_their_own_webhooks(desk, receiver):
    webhook = subscribe(desk, receiver, "own-cso")
    assert [w["id"] for w in desk.get("/webhooks", headers=desk.partner("own-cso")).json()] == [webhook["id"]]
    assert "secret" not in desk.get(f"/webhooks/{webhook['id']}", headers=desk.partner("own-cso")).json()
    assert desk.get("/webhooks", headers=desk.partner("other-cso")).json() == []
    for path in (f"/webhooks/{webhook['id']}", f"/webhooks/{webhook['id']}/deliveries"):
        assert desk.get(path, headers=desk.partner("other-cso")).status_code == 404
        assert desk.get(path, headers=desk.officer()).status_code == 403

    response = desk.client.delete(f"{desk.base}/webhooks/{webhook['id']}", headers=desk.partner("own-cso"))
    assert response.status_code == 204
    assert desk.get(f"/webhooks/{webhook['id']}", headers=desk.partner("own-cso")).json()["active"] is False
    referral_id = desk.submit(person("Ali", "Hassan", "1999-09-09"), org="own-cso")["id"]
    screen(desk, referral_id, {"outcome": "accept"})
    time.sleep(1.0)
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "https://user:pw@example.org/x"])
def test_an_unusable_webhook_url_is_refused(desk, url):
    response = desk.post("/webhooks", {"url": url}, headers=desk.partner())
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("url", ["http://example.org/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
                                 "https://[::1]/x", "https://localhost/x", "https://169.254.169.254/x"])
def test_outside_development_only_https_to_public_addresses_is_allowed(url):
    with pytest.raises(ValidationFailed):
        check_url(url, allow_private=False)
    assert check_url("https://partner.example.org/hooks", allow_private=False)


def test_no_organisation_no_webhooks(desk):
    orgless = desk.issuer.headers(tenants={desk.tenant: ["partner"]}, scope="referrals:read",
                                  client_id=f"c-{uuid.uuid4().hex[:6]}")
    assert desk.post("/webhooks", {"url": "https://partner.example.org/x"}, headers=orgless).status_code == 403


def test_a_delivery_goes_to_the_address_that_was_checked_even_if_the_name_is_rebound(monkeypatch):
    """DNS rebinding: the name resolves to a public address for the check, then to loopback. The request
    must go to the checked address, the name only in the Host header and the TLS server name."""
    answers = iter(["1.1.1.1", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "hooks.partner.test":
            return real(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (next(answers), 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    sent: list[httpx.Request] = []
    dispatcher = WebhookDispatcher(sessions=None, vault=None, config=WebhookConfig(allow_private=False))
    dispatcher._http = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204)))
    job = _Job(tenant="ke-mombasa", delivery_id=uuid.uuid4(), attempt=1,
               url="https://hooks.partner.test:8443/harambee?x=1", secret="whsec_test", body=b"{}")

    assert dispatcher._send(job) == (204, None)
    [request] = sent
    assert (request.url.host, request.url.port, request.url.path, request.url.query) == (
        "1.1.1.1", 8443, "/harambee", b"x=1")
    assert request.headers["Host"] == "hooks.partner.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.partner.test"


def test_a_name_that_resolves_to_a_private_address_is_refused_without_a_request(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.5", 0))])
    sent: list[httpx.Request] = []
    dispatcher = WebhookDispatcher(sessions=None, vault=None, config=WebhookConfig(allow_private=False))
    dispatcher._http = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204)))
    job = _Job(tenant="ke-mombasa", delivery_id=uuid.uuid4(), attempt=1,
               url="https://hooks.partner.test/harambee", secret="whsec_test", body=b"{}")

    assert dispatcher._send(job) == (None, DESTINATION_REFUSED)
    assert sent == []


def held(database, webhook_id: str) -> list[Any]:
    """The webhook's deliveries waiting, held, with nothing sent."""
    return rows(database.owner, "SELECT id, attempts, last_error FROM webhook_deliveries WHERE subscription_id = :w "
                "AND state = 'pending' AND last_error LIKE 'held:%'", w=webhook_id)


def test_a_partner_is_given_only_the_fields_its_agreement_names_and_each_disclosure_is_recorded(
        intake, desk, receiver):
    _, database = intake
    org = "narrow-cso"
    agree(desk.client, desk.tenant, org, fields=("referral_id", "status"))
    webhook = subscribe(desk, receiver, org)
    referral_id = desk.submit(person("Juma", "Bakari", "2004-04-04"), org=org)["id"]
    response = desk.get(f"/referrals/{referral_id}", headers=desk.partner(org))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": referral_id, "status": "received", "received_at": None}
    [item] = desk.get("/referrals", headers=desk.partner(org)).json()["items"]
    assert item == {"id": referral_id, "status": "received", "received_at": None}
    reads = [e for e in outbox(database.owner, "access.recorded", resource=f"referral/{referral_id}/status")]
    assert len(reads) == 2 and all(e.data["fields"] == ["referral_id", "status"] for e in reads)
    assert {e.data["organisation"] for e in reads} == {org}

    screen(desk, referral_id, {"outcome": "no_further_action", "reason": "misguided"})
    [request] = receiver.wait_for(1)
    sent = json.loads(request["body"])["data"]
    assert sent == {"referral_id": referral_id, "status": "closed", "previous_status": None}
    [logged] = wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "delivered"])
    assert logged["payload"]["data"] == sent  # the log shows what was sent, not more
    pushed = wait_until(lambda: [e for e in outbox(database.owner, "access.recorded",
                                                   resource=f"referral/{referral_id}/status")
                                 if e.data["purpose"] == "webhook:referral.status_changed"])
    assert pushed[0].data["fields"] == ["referral_id", "status"] and pushed[0].data["organisation"] == org


def test_deliveries_to_a_partner_whose_agreement_is_suspended_are_held_until_it_is_in_force_again(
        intake, desk, receiver):
    _, database = intake
    org = "paused-cso"
    published = agree(desk.client, desk.tenant, org)
    webhook = subscribe(desk, receiver, org)
    referral_id = desk.submit(person("Said", "Omar", "2001-01-01"), org=org)["id"]
    agree(desk.client, desk.tenant, org, agreement_id=published["id"], version=2, status="suspended")
    screen(desk, referral_id, {"outcome": "accept"})
    [waiting] = wait_until(lambda: held(database, webhook["id"]))
    time.sleep(1.5)  # three holds' worth: it is looked at again, and still not sent
    assert receiver.requests == []
    [waiting] = held(database, webhook["id"])
    assert waiting.attempts == 0 and "suspended" in waiting.last_error
    refused = [e for e in outbox(database.owner, "agreement.refused")
               if e.data["party"] == {"kind": "organisation", "id": org}]
    assert len(refused) == 1 and refused[0].data["actor"] == "webhook-dispatcher"

    agree(desk.client, desk.tenant, org, agreement_id=published["id"], version=3, status="active")
    [request] = receiver.wait_for(1)
    assert json.loads(request["body"])["data"]["referral_id"] == referral_id and request["verified"]
    [delivered] = wait_until(lambda: [d for d in deliveries(desk, webhook["id"], org) if d["state"] == "delivered"])
    assert delivered["attempts"] == 1


def test_under_an_agreement_requiring_consent_a_partner_learns_nothing_until_the_person_consents(
        intake, desk, receiver):
    _, database = intake
    org = "consent-cso"
    agree(desk.client, desk.tenant, org, consent_required=True)
    webhook = subscribe(desk, receiver, org)
    referral_id = desk.submit(person("Musa", "Kombo", "2002-02-02"), org=org)["id"]
    refused = desk.get(f"/referrals/{referral_id}", headers=desk.partner(org))
    assert refused.status_code == 403 and refused.json()["type"].endswith("/consent-required")
    [decision] = [e for e in outbox(database.owner, "agreement.refused")
                  if e.data["party"]["id"] == org and e.data["operation"] == "read_referral_status"]
    assert decision.data["reason"] == "consent required and not recorded"
    [item] = desk.get("/referrals", headers=desk.partner(org)).json()["items"]
    assert item == {"id": referral_id, "status": None, "received_at": None}
    screen(desk, referral_id, {"outcome": "accept"})
    wait_until(lambda: held(database, webhook["id"]))
    time.sleep(1.0)
    assert receiver.requests == []

    subject = desk.subject_of(referral_id)
    consent = desk.post(f"/subjects/{subject}/consents", {
        "given_by": "person", "purposes": ["information_sharing"], "recipients": ["another-cso"],
        "method": "written", "given_at": "2026-01-05T10:00:00Z", "evidence": "Form CF-1"})
    assert consent.status_code == 201, consent.text
    assert desk.get(f"/referrals/{referral_id}", headers=desk.partner(org)).status_code == 403  # not named
    desk.post(f"/subjects/{subject}/consents", {
        "given_by": "person", "purposes": ["information_sharing"], "recipients": [org],
        "method": "written", "given_at": "2026-01-05T10:00:00Z", "evidence": "Form CF-2"})
    assert partner_status(desk, referral_id, org) == "under_consideration"
    [request] = receiver.wait_for(1)
    assert json.loads(request["body"])["data"]["status"] == "under_consideration"

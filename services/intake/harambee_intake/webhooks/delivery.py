"""The webhook dispatcher: a background worker that sends queued deliveries, signed, with retries.

It leases due deliveries in a short transaction, checks each against the partner's agreement as it
stands then (webhooks.service.disclosed_payload: held while none permits it), sends them outside any transaction (a slow
receiver holds no locks), then records the attempt. Failures are retried with exponential backoff
and jitter up to a maximum number of attempts; the partner reads every attempt in its log.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.db import unit_of_work
from harambee_common.service_app import ServiceContext, WorkerFactory
from harambee_common.workers import PeriodicWorker
from harambee_intake.config import WebhookConfig
from harambee_intake.models import WebhookAttempt
from harambee_intake.vault import Vault
from harambee_intake.webhooks import repository, service


@dataclass(frozen=True)
class _Job:
    tenant: str
    delivery_id: uuid.UUID
    attempt: int
    url: str
    secret: str
    body: bytes


class WebhookDispatcher(PeriodicWorker):
    """Sends every tenant's due deliveries; never in the path of a user's request."""

    name = "webhook-dispatcher"
    drains = True  # while a round sent something, the next round starts at once

    def __init__(self, *, sessions: sessionmaker[Session], vault: Vault, config: WebhookConfig,
                 max_tenants: int = 50) -> None:
        super().__init__(interval=config.poll_seconds, first_run_after=0, stop_timeout=config.timeout_seconds + 5)
        self._sessions = sessions
        self._vault = vault
        self.config = config
        self._max_tenants = max_tenants
        timeout = httpx.Timeout(config.timeout_seconds, connect=min(3.0, config.timeout_seconds))
        self._http = httpx.Client(follow_redirects=False, timeout=timeout)

    @classmethod
    def factory(cls, *, vault: Vault, config: WebhookConfig) -> WorkerFactory:
        """Builds the dispatcher on the app's sessions when the app starts."""
        def build(context: ServiceContext) -> WebhookDispatcher:
            return cls(sessions=context.sessions, vault=vault, config=config)
        return build

    def run_once(self) -> int:
        """One round: each tenant with deliveries due gets one leased batch sent. Returns attempts made."""
        with self._sessions() as session:
            tenants = repository.tenants_with_due_deliveries(session=session, limit=self._max_tenants)
        attempts = 0
        for tenant in tenants:
            if self.stopping:
                break
            for job in self._lease(tenant):
                self._attempt(job)
                attempts += 1
        return attempts

    def close(self) -> None:
        """Closes the HTTP client after the last round."""
        self._http.close()

    def _lease(self, tenant: str) -> list[_Job]:
        lease = self.config.timeout_seconds * (self.config.batch + 1)
        with unit_of_work(self._sessions, tenant) as uow:
            claimed = repository.claim_due_deliveries(
                session=uow.session, limit=self.config.batch,
                lease_until=datetime.now(UTC) + timedelta(seconds=lease))
            jobs = []
            for delivery, subscription in claimed:
                payload = service.disclosed_payload(uow=uow, delivery=delivery, subscription=subscription,
                                                    hold_seconds=self.config.hold_seconds)
                if payload is not None:
                    jobs.append(_Job(tenant=tenant, delivery_id=delivery.id, attempt=delivery.attempts,
                                     url=subscription.url, body=service.canonical(payload),
                                     secret=service.secret_of(vault=self._vault, subscription=subscription)))
            return jobs

    def _attempt(self, job: _Job) -> None:
        started = time.monotonic()
        status, error = self._send(job)
        elapsed = int((time.monotonic() - started) * 1000)
        now = datetime.now(UTC)
        with unit_of_work(self._sessions, job.tenant) as uow:
            delivery = repository.get_delivery(session=uow.session, delivery_id=job.delivery_id)
            if delivery is None:
                return
            repository.add_attempt(session=uow.session, attempt=WebhookAttempt(
                tenant_id=job.tenant, delivery_id=delivery.id, attempt=job.attempt, at=now, status_code=status,
                error=error, duration_ms=elapsed))
            delivery.last_status, delivery.last_error, delivery.leased_until = status, error, None
            if delivery.state != "pending":  # cancelled while in flight
                return
            if status is not None and 200 <= status < 300:
                delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            elif error == DESTINATION_REFUSED or job.attempt >= self.config.max_attempts:
                delivery.state, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = now + timedelta(seconds=self.config.backoff(job.attempt))

    def _send(self, job: _Job) -> tuple[int | None, str | None]:
        url, pinned, extensions = job.url, {}, {}
        if not self.config.allow_private:
            try:
                address = _public_address(job.url)
            except OSError:
                return None, "connection failed (name resolution)"  # retried, like any connection failure
            if address is None:
                return None, DESTINATION_REFUSED
            url, pinned, extensions = _pinned(job.url, address)
        timestamp = int(time.time())
        headers = {
            **pinned,
            "Content-Type": "application/json",
            "User-Agent": "Harambee-Webhooks/1",
            "Harambee-Webhook-Id": str(job.delivery_id),
            "Harambee-Webhook-Timestamp": str(timestamp),
            "Harambee-Webhook-Signature": service.sign(job.secret, timestamp, job.body),
        }
        try:
            response = self._http.post(url, content=job.body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, f"connection failed ({type(exc).__name__})"
        return response.status_code, None if response.is_success else f"HTTP {response.status_code}"


DESTINATION_REFUSED = "destination refused: it resolves to a non-public address"


def _public_address(url: str) -> str | None:
    """The address to deliver to, if every address the host resolves to is public; None if not.

    Raises OSError when the name does not resolve.
    """
    host = urlsplit(url).hostname or ""
    if not service.public_host(host):
        return None
    addresses = [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    return addresses[0] if all(ip_address(a).is_global for a in addresses) else None


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request aimed at the address that was checked, not at the name, which could be resolved again
    to another address between the check and the connection (DNS rebinding). The name still goes in the
    Host header and, for https, in the TLS server name, against which the certificate is verified."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    named = f"[{host}]" if ":" in host else host
    host_header = f"{named}:{parts.port}" if parts.port else named
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions

"""The agreement copy from the registry's read API: at startup, now and then, and when an event skips versions.

Events keep the copy current; this fills it when the service (or its database) is new and the broker
no longer holds the history, and repeats every AGREEMENT_SYNC_INTERVAL_SECONDS so that a missed event
(a suspension among them) heals by itself. An agreement event whose version is more than one past the
copy's is not applied (agreements.on_agreement_event): it wakes this sync, and the registry's answer is
what the copy takes. A copy not confirmed for AGREEMENT_COPY_MAX_AGE_SECONDS makes the service unready
(health.readyz): it would judge requests on terms that may have been withdrawn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.agreements import store_agreement, version_gaps
from harambee_common.db import unit_of_work
from harambee_common.workers import PeriodicWorker

log = logging.getLogger(__name__)

MAX_PAGES = 1000  # a bound, not an expectation: a registry holds hundreds of agreements


class AgreementSync(PeriodicWorker):
    """Loads every agreement version from the registry into the local copy: at start, then now and then.

    Until the gateway answers (it may start after the service) each try is retried with a back-off.
    """

    name = "agreement-sync"

    def __init__(self, *, sessions: sessionmaker[Session], gateway_url: str, client_id: str, client_secret: str,
                 interval_seconds: float = 300.0, max_age_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(interval=interval_seconds, first_run_after=0)
        self._sessions = sessions
        self._gateway = gateway_url.rstrip("/")
        self._auth = (client_id, client_secret)
        self._clock = clock
        self._max_age = max_age_seconds
        self._due = threading.Event()
        self.last_synced: float | None = None  # on the clock, when the registry last answered in full

    def fresh(self) -> bool:
        """Whether the copy was confirmed by the registry within the bound (never, before the first sync)."""
        return self.last_synced is not None and self._clock() - self.last_synced <= self._max_age

    def start(self) -> None:
        """Starts the passes, and listens for agreement events that skip versions."""
        version_gaps.listen(self.wake)
        super().start()

    def close(self) -> None:
        """Stops listening for version gaps."""
        version_gaps.forget(self.wake)

    def wake(self) -> None:
        """Syncs now (an event skipped versions, or the worker stops)."""
        self._due.set()

    def pause(self, seconds: float) -> None:
        """Waits for the next sync, or until woken."""
        self._due.wait(seconds)
        self._due.clear()

    def run_once(self) -> int:
        """One sync; the copy counts as confirmed from the moment it succeeds."""
        started = self._clock()
        count = self.sync_once()
        log.info("agreement copy synced from the registry: %d agreements", count)
        self.last_synced = started
        return count

    def sync_once(self) -> int:
        """Loads every agreement's current version; returns how many the registry holds."""
        with httpx.Client(base_url=self._gateway, timeout=10.0, trust_env=False) as client:
            token = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "registry:read"},
                                auth=self._auth).raise_for_status().json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            params: dict[str, str] = {"limit": "100"}
            count = 0
            for _ in range(MAX_PAGES):
                page = client.get("/registry/v1/agreements", params=params, headers=headers).raise_for_status().json()
                for view in page["items"]:
                    with unit_of_work(self._sessions, view["tenant"]) as uow:
                        store_agreement(session=uow.session, view=view)
                    count += 1
                if not page.get("next_cursor"):
                    break
                params["cursor"] = page["next_cursor"]
        return count

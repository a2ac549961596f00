"""The startup bootstrap of a service's agreement copy, from the registry's read API.

Events keep the copy current; this fills it when the service (or its database) is new and the broker
no longer holds the history, and repeats now and then so that a missed event heals by itself.
"""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.agreements import store_agreement
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
                 interval_seconds: float = 300.0) -> None:
        super().__init__(interval=interval_seconds, first_run_after=0)
        self._sessions = sessions
        self._gateway = gateway_url.rstrip("/")
        self._auth = (client_id, client_secret)
        self.synced = threading.Event()

    def run_once(self) -> int:
        """One sync; the copy counts as loaded from the first that succeeds."""
        count = self.sync_once()
        log.info("agreement copy synced from the registry: %d agreements", count)
        self.synced.set()
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

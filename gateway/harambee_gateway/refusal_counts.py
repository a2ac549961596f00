"""Token refusals that name no registered client: counted per minute, published as one event a minute.

Anyone may send junk to the token endpoint. Logged one event each, a loop of it would fill the
shared database with immutable audit entries; counted, it costs one `token.refusals_counted` a
minute however fast it runs. Counts are kept in this process until published: each replica
publishes its own, and a crash loses at most the minute under way.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from harambee_common.catalogue import registry as catalogue
from harambee_common.workers import PeriodicWorker
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.unit_of_work import registry_unit_of_work

log = logging.getLogger(__name__)
# The error codes are the gateway's own answers, but bound them anyway: a count must stay small.
MAX_ERRORS = 16
OTHER = "other"


def minute_of(at: datetime) -> datetime:
    """The start of the minute at falls in."""
    return at.replace(second=0, microsecond=0)


class RefusalCounter:
    """Refusals by minute and OAuth error code; safe to add to from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minutes: dict[datetime, Counter[str]] = {}

    def add(self, *, error: str, at: datetime | None = None) -> None:
        """Counts one refusal answered with this error code."""
        minute = minute_of(at or datetime.now(UTC))
        with self._lock:
            errors = self._minutes.setdefault(minute, Counter())
            errors[error if error in errors or len(errors) < MAX_ERRORS else OTHER] += 1

    def take(self, *, before: datetime | None) -> dict[datetime, Counter[str]]:
        """Removes and returns the counts of the minutes that started before `before` (every minute when None)."""
        with self._lock:
            taken = {m: c for m, c in self._minutes.items() if before is None or m < before}
            for minute in taken:
                del self._minutes[minute]
        return taken

    def put_back(self, counts: dict[datetime, Counter[str]]) -> None:
        """Returns counts that could not be published, to be tried again."""
        with self._lock:
            for minute, errors in counts.items():
                self._minutes.setdefault(minute, Counter()).update(errors)


class RefusalSummaries(PeriodicWorker):
    """Publishes each finished minute's count of refusals; at stop, the minute under way too."""

    name = "refusal-summaries"

    def __init__(self, *, counter: RefusalCounter, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        super().__init__(interval=interval_seconds)
        self._counter = counter
        self._sessions = sessions

    def run_once(self) -> int:
        """Publishes the minutes that have ended; returns how many."""
        return self.publish(before=minute_of(datetime.now(UTC)))

    def close(self) -> None:
        """Publishes what is left, so that a restart loses no count."""
        try:
            self.publish(before=None)
        except Exception as exc:  # shutting down: nothing left to retry with
            log.warning("refusal counts lost at stop: %s", type(exc).__name__)

    def publish(self, *, before: datetime | None) -> int:
        """One event per minute taken; put back when the transaction fails."""
        counts = self._counter.take(before=before)
        if not counts:
            return 0
        try:
            with registry_unit_of_work(self._sessions) as uow:
                for minute, errors in sorted(counts.items()):
                    summary = catalogue.TokenRefusalsCounted(minute=minute, count=errors.total(), errors=dict(errors))
                    publish(uow, summary, tenant=PLATFORM, subject="token")
        except Exception:
            self._counter.put_back(counts)
            raise
        return len(counts)

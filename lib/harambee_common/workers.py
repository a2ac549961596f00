"""Background work beside a service's API: one loop, one way to start, pace, back off and stop it."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Worker(Protocol):
    """Anything a service runs beside its API while the app runs."""

    def start(self) -> None:
        """Starts the work in the background."""

    def stop(self) -> None:
        """Stops the work and waits for the step in flight."""


class PeriodicWorker:
    """Calls `run_once` on a daemon thread until stopped.

    Passes are `interval` seconds apart; a worker that drains a backlog (`drains = True`: a relay, a
    consumer, a dispatcher) runs the next pass at once while the last one found work. A failed pass
    (a database or broker outage, bad data) is logged, `recover` is called, and the pass is retried
    after a back-off that doubles up to `max_backoff`: a worker never dies of an error, and never spins
    on one. Subclasses name themselves, implement `run_once`, and may override `pause` and `wake` (to
    sleep until notified), `recover` (to drop a failed connection) or `close` (to release what they hold).
    """

    name = "worker"
    drains = False

    def __init__(self, *, interval: float, first_run_after: float | None = None, max_backoff: float = 30.0,
                 stop_timeout: float = 15.0) -> None:
        """first_run_after: seconds before the first pass (None: one interval, for periodic jobs)."""
        self.interval = interval
        self._first_run_after = interval if first_run_after is None else first_run_after
        self._max_backoff = max_backoff
        self._stop_timeout = stop_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        """Starts the passes in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops after the pass in flight, then releases what the worker holds."""
        self._stop.set()
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=self._stop_timeout)
        self.close()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called: a long pass should end early."""
        return self._stop.is_set()

    def run_once(self) -> int:
        """One bounded pass; returns how much it did (0 when there was nothing to do)."""
        raise NotImplementedError

    def pause(self, seconds: float) -> None:
        """Waits before the next pass; returns early when the worker is stopped."""
        self._stop.wait(seconds)

    def wake(self) -> None:
        """Ends a pause early (stop() calls it; a worker that pauses on something else overrides it)."""

    def recover(self) -> None:
        """Called after a failed pass, before the back-off: drop what may be broken."""

    def close(self) -> None:
        """Releases connections and clients after the last pass."""

    def _run(self) -> None:
        self.pause(self._first_run_after)
        backoff = min(1.0, self._max_backoff)
        while not self._stop.is_set():
            try:
                done = self.run_once()
                backoff = min(1.0, self._max_backoff)
                if not (done and self.drains):
                    # Inside the try: a pause may wait on a connection (the relay's LISTEN) that an outage breaks.
                    self.pause(self.interval)
            except Exception as exc:  # an outage or bad data: retry later, never die
                log.warning("%s: %s; retrying in %.1fs", self.name, type(exc).__name__, backoff)
                self.recover()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)

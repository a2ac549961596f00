"""Background workers of the audit service: a thread that runs a bounded pass every few seconds."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Calls run_once every `interval` seconds on a daemon thread until stopped; a failed pass is retried."""

    name = "audit-worker"

    def __init__(self, *, interval: float) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        """Starts the passes in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stops after the pass in flight."""
        self._stop.set()
        self._thread.join(timeout=15)

    @property
    def stopping(self) -> bool:
        """Whether stop() was called: a long pass should end early."""
        return self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception as exc:  # a database outage or bad data: retry at the next tick
                log.warning("%s: %s", self.name, type(exc).__name__)

    def run_once(self) -> int:
        """One bounded pass; returns how much it did."""
        raise NotImplementedError

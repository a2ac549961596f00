"""The time a service reads: the system's, or the system's moved by an offset that tests control.

Rules that run on dates (a plan stalls after 21 days without a session, a follow-up falls due after six
months) are tested by moving the clock, never by sleeping. A service reads `now()` from the one `Clock`
its app holds; in-process tests move it with `advance()`, and a stack of processes (the end-to-end
tests) moves it through the file named by `HARAMBEE_CLOCK_OFFSET_FILE` (seconds, read on each call).
Production leaves the variable unset: the clock is the system's.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_OFFSET_FILE = "HARAMBEE_CLOCK_OFFSET_FILE"


class Clock:
    """The system clock in UTC, plus an offset (zero unless a test moved it)."""

    def __init__(self, *, offset_file: Path | None = None) -> None:
        self._offset = timedelta()
        self._offset_file = offset_file
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Clock:
        """The clock a service process runs on: moved by the offset file, if the environment names one."""
        path = os.environ.get(CLOCK_OFFSET_FILE)
        return cls(offset_file=Path(path) if path else None)

    def now(self) -> datetime:
        """The current instant (timezone-aware, UTC)."""
        return datetime.now(UTC) + self._offset + self._file_offset()

    def advance(self, delta: timedelta) -> None:
        """Moves this clock forward (or back, with a negative delta): for tests in the same process."""
        with self._lock:
            self._offset += delta

    def _file_offset(self) -> timedelta:
        if self._offset_file is None:
            return timedelta()
        try:
            return timedelta(seconds=float(self._offset_file.read_text().strip() or 0))
        except (OSError, ValueError):
            return timedelta()  # no file yet, or one being written: the system's time


def move_clock_file(path: Path, delta: timedelta) -> None:
    """Moves every process reading the offset file by delta (atomically: a reader sees the old or new offset)."""
    try:
        current = float(path.read_text().strip() or 0)
    except (OSError, ValueError):
        current = 0.0
    staging = path.with_suffix(".tmp")
    staging.write_text(str(current + delta.total_seconds()))
    staging.replace(path)

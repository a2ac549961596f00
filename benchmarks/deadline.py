"""A benchmark's whole time budget: every phase checks it, so that a run on a slow machine stops by itself."""

from __future__ import annotations

import time


class Deadline:
    """The run's time budget, in minutes from now."""

    def __init__(self, minutes: float) -> None:
        self.end = time.monotonic() + minutes * 60

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.end - time.monotonic()

    def check(self, phase: str) -> None:
        """Ends the run, naming the phase, once the budget is spent."""
        if self.left() <= 0:
            raise SystemExit(f"time budget exhausted during {phase}")

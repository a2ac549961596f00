"""Interventions' own settings, read from the environment once, when the app is built."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class InterventionsConfig:
    """How often the flag check runs; every value has an environment variable."""

    # INTERVENTIONS_FLAG_CHECK_SECONDS: the check is day-grained, so hourly is plenty; tests run it at once.
    flag_check_seconds: float = 3600.0

    @classmethod
    def from_env(cls) -> InterventionsConfig:
        """The configuration in the environment, with these defaults."""
        return cls(flag_check_seconds=float(os.environ.get("INTERVENTIONS_FLAG_CHECK_SECONDS",
                                                           cls.flag_check_seconds)))

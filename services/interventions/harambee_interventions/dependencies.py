"""What interventions' endpoints are given besides the principal and the unit of work: the app's clock.

The app builds it once (app.py); this module is the one place that knows where it is kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from harambee_common.clock import Clock


def _clock(request: Request) -> Clock:
    return request.app.state.clock


# The clock every date rule reads (moved by tests, never slept on).
ClockDep = Annotated[Clock, Depends(_clock)]

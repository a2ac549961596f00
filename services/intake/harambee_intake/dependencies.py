"""What intake's endpoints are given besides the principal and the unit of work: the headers intake
reads, and what the app was built with (the vault, the webhook and export settings).

The app builds each of these once (app.py); this module is the one place that knows where it keeps them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from harambee_intake.config import IntakeConfig
from harambee_intake.vault import Vault

IfMatch = Annotated[str | None, Header()]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]


def _vault(request: Request) -> Vault:
    return request.app.state.vault


def _config(request: Request) -> IntakeConfig:
    return request.app.state.intake_config


# The tenant keys and the people's data keys: one per app, made from the environment at startup.
VaultDep = Annotated[Vault, Depends(_vault)]
# Intake's settings (webhooks, where access requests gather other services' parts), read at startup.
ConfigDep = Annotated[IntakeConfig, Depends(_config)]

"""Liveness and readiness: /healthz says the process runs, /readyz that its dependencies answer."""

from __future__ import annotations

import socket

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel

from harambee_common.agreement_sync import AgreementSync
from harambee_common.problems import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


class Readiness(BaseModel):
    """Every dependency answers: each check by name (database, broker, agreements)."""

    status: str
    checks: dict[str, bool]


@router.get("/readyz")
def readyz(request: Request) -> Readiness:
    """The database and the broker are reachable, and the agreement copy (if any) is fresh.

    Otherwise 503, a problem document whose `checks` say which is not.
    """
    checks = {
        "database": _database_ok(request.app.state.engine),
        "broker": _broker_ok(request.app.state.settings.kafka_bootstrap_servers),
    }
    # A service that applies agreements is ready to judge requests only on a copy the registry confirmed
    # recently: one never synced, or not for longer than the bound, may still allow a suspended agreement.
    if getattr(request.app.state, "applies_agreements", False):
        syncs = [w for w in getattr(request.app.state, "workers", ()) if isinstance(w, AgreementSync)]
        checks["agreements"] = bool(syncs) and all(sync.fresh() for sync in syncs)
    if not all(checks.values()):
        raise ServiceUnavailable("Not ready: a dependency does not answer.", checks=checks)
    return Readiness(status="ready", checks=checks)


def _database_ok(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False


def _broker_ok(bootstrap: str) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
                return True
        except (OSError, ValueError):
            continue
    return False

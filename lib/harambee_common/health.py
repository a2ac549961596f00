"""Liveness and readiness: /healthz says the process runs, /readyz that its dependencies answer."""

from __future__ import annotations

import socket

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from harambee_common.agreement_sync import AgreementSync

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database and the broker are reachable, and the agreement copy (if any) is fresh."""
    checks = {
        "database": _database_ok(request.app.state.engine),
        "broker": _broker_ok(request.app.state.settings.kafka_bootstrap_servers),
    }
    # A service that applies agreements is ready to judge requests only on a copy the registry confirmed
    # recently: one never synced, or not for longer than the bound, may still allow a suspended agreement.
    if getattr(request.app.state, "applies_agreements", False):
        syncs = [w for w in getattr(request.app.state, "workers", ()) if isinstance(w, AgreementSync)]
        checks["agreements"] = bool(syncs) and all(sync.fresh() for sync in syncs)
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unready", "checks": checks},
        status_code=200 if ready else 503,
    )


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

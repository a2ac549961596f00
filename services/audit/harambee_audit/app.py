"""The audit service's FastAPI app, its consumer of every topic, its checkpointer and read-volume watcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from harambee_audit.checkpointer import Checkpointer
from harambee_audit.config import AuditSettings
from harambee_audit.consumers import log_subscription
from harambee_audit.endpoints import public, router
from harambee_audit.read_volume_watcher import ReadVolumeWatcher
from harambee_audit.workers import PeriodicWorker
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app


def create_app(settings: Settings | None = None, audit: AuditSettings | None = None) -> FastAPI:
    """The app; settings come from the environment unless given."""
    settings = settings or Settings.from_env("audit")
    audit = audit or AuditSettings.from_env()
    signer = audit.signer()
    app = create_service_app(
        settings=settings,
        title="Harambee audit",
        routers=[public, router],
        subscriptions=[log_subscription(signer=signer, checkpoint_every=audit.checkpoint_every)],
        relay=True,  # checkpoints and agreement decisions leave through the outbox
        agreements=True,  # national oversight reads under the agreements: bootstrap the copy
    )
    app.state.signer = signer
    app.state.audit = audit
    app.state.retired_keys = audit.retired_keys()
    workers: list[PeriodicWorker] = [
        ReadVolumeWatcher(
            sessions=app.state.sessions, rule=audit.alert_rule, interval=audit.alert_interval_seconds
        )
    ]
    if signer is not None:
        workers.append(
            Checkpointer(sessions=app.state.sessions, signer=signer, max_age_seconds=audit.checkpoint_seconds)
        )
    _run_with_app(app, workers)
    return app


def _run_with_app(app: FastAPI, workers: list[PeriodicWorker]) -> None:
    """Starts the workers after the shared ones and stops them before."""
    shared = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared(app):
            for worker in workers:
                worker.start()
            try:
                yield
            finally:
                for worker in workers:
                    worker.stop()

    app.router.lifespan_context = lifespan

"""The audit service's FastAPI app, its consumer of every topic, its checkpointer and read-volume watcher."""

from __future__ import annotations

from fastapi import FastAPI

from harambee_audit.checkpointer import Checkpointer
from harambee_audit.config import AuditSettings
from harambee_audit.consumers import log_subscription
from harambee_audit.endpoints import public, router
from harambee_audit.read_volume_watcher import ReadVolumeWatcher
from harambee_common.components import AUDIT
from harambee_common.config import Settings
from harambee_common.service_app import WorkerFactory, create_service_app


def create_app(settings: Settings | None = None, audit: AuditSettings | None = None) -> FastAPI:
    """The app; settings come from the environment unless given."""
    settings = settings or Settings.from_env(AUDIT.name)
    audit = audit or AuditSettings.from_env()
    signer = audit.signer()

    workers: list[WorkerFactory] = [
        lambda context: ReadVolumeWatcher(
            sessions=context.sessions, rule=audit.alert_rule, interval=audit.alert_interval_seconds
        ),
        lambda context: Checkpointer(
            sessions=context.sessions, signer=signer, max_age_seconds=audit.checkpoint_seconds
        ),
    ]
    app = create_service_app(
        settings=settings,
        title="Harambee audit",
        routers=[public, router],
        subscriptions=[log_subscription(signer=signer, checkpoint_every=audit.checkpoint_every)],
        relay=True,  # checkpoints and agreement decisions leave through the outbox
        agreements=True,  # national oversight reads under the agreements: bootstrap the copy
        workers=workers,
    )
    app.state.signer = signer
    app.state.audit = audit
    app.state.retired_keys = audit.retired_keys()
    return app

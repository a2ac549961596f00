"""The intake service's application: one router per concept, and its two background workers."""

from fastapi import FastAPI

from harambee_common.config import Settings
from harambee_common.service_app import WorkerFactory, create_service_app
from harambee_intake.config import IntakeConfig
from harambee_intake.consent.endpoints import router as consent
from harambee_intake.consumers import subscription
from harambee_intake.referrals.endpoints import router as referrals
from harambee_intake.retention.endpoints import router as retention
from harambee_intake.retention.service import RetentionScheduler
from harambee_intake.rights.endpoints import router as rights
from harambee_intake.screening.endpoints import router as screening
from harambee_intake.subjects.endpoints import router as subjects
from harambee_intake.subjects.reason_sealing import ClearReasonSealer
from harambee_intake.tenant_keys import TenantKeyStore
from harambee_intake.tenant_settings.endpoints import router as tenant_settings
from harambee_intake.vault import Vault
from harambee_intake.vocabularies.endpoints import router as vocabularies
from harambee_intake.webhooks.delivery import WebhookDispatcher
from harambee_intake.webhooks.endpoints import router as webhooks

ROUTERS = (referrals, vocabularies, subjects, screening, tenant_settings, webhooks, consent, rights, retention)


def create_app() -> FastAPI:
    """Builds the intake app from the environment."""
    vault = Vault.from_env()
    config = IntakeConfig.from_env()
    workers: list[WorkerFactory] = [WebhookDispatcher.factory(vault=vault, config=config.webhooks),
                                    ClearReasonSealer.factory(vault=vault)]
    if config.retention_interval > 0:
        workers.append(RetentionScheduler.factory(interval=config.retention_interval))
    app = create_service_app(
        settings=Settings.from_env("intake"), title="Harambee intake", routers=ROUTERS,
        subscriptions=[subscription(vault=vault)], agreements=True, workers=workers,
    )
    # The wrapped tenant keys are in the service's own database.
    vault.use_store(TenantKeyStore(app.state.sessions))
    # Read by the endpoints' dependencies (harambee_intake.dependencies), the one place that knows.
    app.state.vault, app.state.intake_config = vault, config
    return app

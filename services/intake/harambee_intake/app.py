"""The intake service's application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from harambee_common.config import Settings
from harambee_common.service_app import create_service_app
from harambee_intake.consumers import subscription
from harambee_intake.delivery import WebhookConfig, WebhookDispatcher
from harambee_intake.endpoints import router
from harambee_intake.retention import RetentionScheduler
from harambee_intake.vault import Vault


def create_app() -> FastAPI:
    """Builds the intake app from the environment."""
    vault = Vault.from_env()
    app = create_service_app(
        settings=Settings.from_env("intake"), title="Harambee intake", routers=[router],
        subscriptions=[subscription(vault=vault)],
        agreements=True,
    )
    app.state.vault = vault
    app.state.webhooks = WebhookConfig.from_env()
    shared = app.router.lifespan_context

    # Intake's own background work runs beside the relay and consumers the shared frame starts.
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared(app):
            dispatcher = WebhookDispatcher(sessions=app.state.sessions, vault=app.state.vault,
                                           config=app.state.webhooks)
            scheduler = RetentionScheduler.from_env(app.state.sessions)
            dispatcher.start()
            scheduler.start()
            app.state.dispatcher, app.state.retention = dispatcher, scheduler
            try:
                yield
            finally:
                scheduler.stop()
                dispatcher.stop()

    app.router.lifespan_context = lifespan
    return app

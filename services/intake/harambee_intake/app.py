"""The intake service's application."""

from fastapi import FastAPI

from harambee_common.config import Settings
from harambee_common.service_app import create_service_app
from harambee_intake.endpoints import router
from harambee_intake.vault import Vault


def create_app() -> FastAPI:
    """Builds the intake app from the environment."""
    app = create_service_app(
        settings=Settings.from_env("intake"), title="Harambee intake", routers=[router]
    )
    app.state.vault = Vault.from_env()
    return app

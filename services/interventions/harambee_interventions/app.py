"""The interventions service's application."""

from fastapi import FastAPI

from harambee_common.components import INTERVENTIONS
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app
from harambee_interventions.consumers import SUBSCRIPTION
from harambee_interventions.endpoints import router


def create_app() -> FastAPI:
    """Builds the interventions app from the environment."""
    return create_service_app(
        settings=Settings.from_env(INTERVENTIONS.name),
        title="Harambee interventions",
        routers=[router],
        subscriptions=[SUBSCRIPTION],
    )

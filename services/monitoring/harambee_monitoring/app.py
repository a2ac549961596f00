"""The monitoring service's application."""

from fastapi import FastAPI

from harambee_common.components import MONITORING
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app
from harambee_monitoring.consumers import SUBSCRIPTION
from harambee_monitoring.indicators.endpoints import router as indicators
from harambee_monitoring.population.endpoints import router as population


def create_app() -> FastAPI:
    """Builds the monitoring app from the environment."""
    return create_service_app(
        settings=Settings.from_env(MONITORING.name),
        title="Harambee monitoring and evaluation",
        routers=[indicators, population],
        subscriptions=[SUBSCRIPTION],
        agreements=True,
    )

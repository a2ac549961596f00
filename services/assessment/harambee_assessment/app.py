"""The assessment service's application."""

from fastapi import FastAPI

from harambee_assessment.consumers import SUBSCRIPTION
from harambee_assessment.endpoints import router
from harambee_common.components import ASSESSMENT
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app


def create_app() -> FastAPI:
    """Builds the assessment app from the environment."""
    return create_service_app(
        settings=Settings.from_env(ASSESSMENT.name),
        title="Harambee assessment",
        routers=[router],
        subscriptions=[SUBSCRIPTION],
        agreements=True,
    )

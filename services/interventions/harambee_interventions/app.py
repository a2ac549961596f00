"""The interventions service's application: one router per concept, and the scheduled flag check."""

from fastapi import FastAPI

from harambee_common.clock import Clock
from harambee_common.components import INTERVENTIONS
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app
from harambee_interventions.cases.endpoints import router as cases
from harambee_interventions.config import InterventionsConfig
from harambee_interventions.consumers import SUBSCRIPTION
from harambee_interventions.flags.endpoints import router as flags
from harambee_interventions.flags.scheduler import FlagCheck
from harambee_interventions.follow_ups.endpoints import router as follow_ups
from harambee_interventions.intervention_types.endpoints import router as intervention_types
from harambee_interventions.plans.endpoints import router as plans
from harambee_interventions.providers.endpoints import router as providers
from harambee_interventions.tasks.endpoints import router as tasks
from harambee_interventions.tenant_settings.endpoints import router as tenant_settings


def create_app() -> FastAPI:
    """Builds the interventions app from the environment."""
    config = InterventionsConfig.from_env()
    clock = Clock.from_env()
    app = create_service_app(
        settings=Settings.from_env(INTERVENTIONS.name),
        title="Harambee interventions",
        routers=[cases, intervention_types, tenant_settings, providers, plans, tasks, flags, follow_ups],
        subscriptions=[SUBSCRIPTION],
        agreements=True,
        workers=[FlagCheck.factory(clock=clock, interval=config.flag_check_seconds)],
    )
    app.state.clock = clock
    return app

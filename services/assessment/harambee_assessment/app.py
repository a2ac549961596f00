"""The assessment service's application."""

from fastapi import FastAPI

from harambee_assessment.assessments.endpoints import router as assessments
from harambee_assessment.consumers import SUBSCRIPTION
from harambee_assessment.endpoints import router as cases
from harambee_assessment.frameworks.endpoints import router as frameworks
from harambee_assessment.information_requests.endpoints import router as information_requests
from harambee_assessment.panel.endpoints import router as panel
from harambee_common.components import ASSESSMENT
from harambee_common.config import Settings
from harambee_common.service_app import create_service_app

DESCRIPTION = """\
Cases, information gathering, assessment and the multi-agency panel, for a county's referral programme.

A person appears only as intake's pseudonymous subject reference. Assessments are **structured
professional judgement**: each item of a framework is rated on its own scale, beside strengths and
resources, with a summary conclusion, the needs identified and a management plan. **There is no risk
score anywhere in this API** — nothing adds ratings up or predicts; what changed since the previous
assessment is shown item by item. Every read of a case or an assessment is recorded in the audit log.
"""


def create_app() -> FastAPI:
    """Builds the assessment app from the environment."""
    app = create_service_app(
        settings=Settings.from_env(ASSESSMENT.name),
        title="Harambee assessment",
        routers=[cases, information_requests, frameworks, assessments, panel],
        subscriptions=[SUBSCRIPTION],
        agreements=True,
    )
    app.description = DESCRIPTION
    return app

"""Intake's own problem types; the shared ones live in harambee_common.problems."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from harambee_common.problems import MEDIA_TYPE, Conflict, Problem, ValidationFailed


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class IdempotencyKeyReused(Conflict):
    slug, title = "idempotency-key-reused", "The Idempotency-Key was used for a different request"


class UnknownCode(ValidationFailed):
    slug, title = "unknown-code", "A code is not in the tenant's list"


class InvalidState(Conflict):
    slug, title = "invalid-state", "Not possible in the resource's current state"


class ProblemDocument(BaseModel):
    """An RFC 9457 problem: `type` names it, `detail` says what happened here; more members may follow."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


_MEANINGS = {
    401: "No valid access token",
    403: "The token lacks the scope or role this needs",
    404: "No such resource in this tenant",
    409: "Not possible in the resource's current state",
    422: "A parameter or the body is not valid",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route answers with, as problem documents."""
    schema = ProblemDocument.model_json_schema()
    return {status: {"description": _MEANINGS[status], "content": {MEDIA_TYPE: {"schema": schema}}}
            for status in statuses}

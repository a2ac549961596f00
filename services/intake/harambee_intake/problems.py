"""Intake's own problem types; the shared ones live in harambee_common.problems."""

from __future__ import annotations

from harambee_common.problems import Conflict, Problem, ValidationFailed, problem_responses

__all__ = ["IdempotencyKeyReused", "InvalidState", "PreconditionRequired", "UnknownCode", "problem_responses"]


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class IdempotencyKeyReused(Conflict):
    slug, title = "idempotency-key-reused", "The Idempotency-Key was used for a different request"


class UnknownCode(ValidationFailed):
    slug, title = "unknown-code", "A code is not in the tenant's list"


class InvalidState(Conflict):
    slug, title = "invalid-state", "Not possible in the resource's current state"

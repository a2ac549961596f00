"""RFC 9457 problem details: exception classes that carry their status, and one renderer."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://harambee.example/problems/"
MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)
Row = TypeVar("Row")


class Problem(Exception):
    """An error a client can act on; subclasses set status, slug and title."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}
        # Events that must be recorded although the request's own transaction is rolled back
        # (a refusal under an agreement is itself audited); the request's unit of work writes them.
        self.events: list[Any] = []

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem-details document."""
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        doc.update(self.extensions)
        return doc


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Missing or invalid access token"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not permitted"


class InsufficientScope(Forbidden):
    slug, title = "insufficient-scope", "The token lacks a required scope"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-failed", "The request is not valid"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", "A dependency is unavailable"


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    """Render a problem as an HTTP response."""
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers or None,
    )


_HTTP_PROBLEMS: dict[int, type[Problem]] = {
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
}


class InternalError(Problem):
    status, slug, title = 500, "internal-error", "Something went wrong on our side"


class _HttpProblem(Problem):
    """A framework HTTP error (unknown route, wrong method) that has no class of its own."""


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app returns a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem_response(
            ValidationFailed("One or more fields are invalid.", errors=errors), request.url.path
        )

    @app.exception_handler(OperationalError)
    async def _database_away(request: Request, _exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable on %s %s", request.method, request.url.path)
        problem = ServiceUnavailable("The database is unavailable; nothing was changed. Try again shortly.")
        problem.headers["Retry-After"] = "5"
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's fault: log the type (never the data) and answer in the same format.
        log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(InternalError(), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_PROBLEMS.get(exc.status_code)
        if cls is None:
            problem = _HttpProblem(str(exc.detail))
            problem.status = exc.status_code
            problem.slug = f"http-{exc.status_code}"
            problem.title = str(exc.detail)
        else:
            problem = cls(str(exc.detail) if exc.detail else None)
        problem.headers.update(exc.headers or {})
        return problem_response(problem, request.url.path)


def or_not_found(row: Row | None, detail: str) -> Row:
    """The one way "there is none" becomes a 404: the row found, or NotFound with the detail."""
    if row is None:
        raise NotFound(detail)
    return row


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


def problem_responses(*statuses: int, meanings: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route answers with, as problem documents (`meanings` says more)."""
    schema = ProblemDocument.model_json_schema()
    said = {**_MEANINGS, **(meanings or {})}
    return {status: {"description": said[status], "content": {MEDIA_TYPE: {"schema": schema}}}
            for status in statuses}

"""RFC 9457 problem details: exception classes that carry their status, and one renderer."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

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


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-failed", "The request is not valid"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", "A dependency is unavailable"


class MalformedRequest(Problem):
    status, slug, title = 400, "malformed-request", "The request could not be read"


class UriTooLong(Problem):
    status, slug, title = 414, "uri-too-long", "The request target is too long"


class HeadersTooLarge(Problem):
    status, slug, title = 431, "headers-too-large", "The request's headers are too large"


class MalformedBody(Problem):
    status, slug, title = 400, "malformed-body", "The request body could not be read"


class TooManyRequests(Problem):
    """A client over its rate limit (RFC 6585); Retry-After says when to try again."""

    status, slug, title = 429, "too-many-requests", "Too many requests"


class ProblemDocument(BaseModel):
    """An RFC 9457 problem: `type` names it, `detail` says what happened here; more members may follow."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class FieldError(BaseModel):
    """One invalid parameter or body member."""

    location: list[str | int]
    message: str
    type: str


class ValidationProblemDocument(ProblemDocument):
    """A 422 problem: which parameters or body members are invalid (absent when the request as a whole is)."""

    model_config = ConfigDict(extra="allow", title="ValidationProblem")

    errors: list[FieldError] | None = None


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

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, _exc: DataError) -> JSONResponse:
        # A value that validated but that PostgreSQL will neither store nor compare: text holding a NUL
        # character, most often. The transaction was rolled back; the client can correct the request.
        log.info("value refused by the database on %s %s", request.method, request.url.path)
        return problem_response(
            ValidationFailed("A value in the request cannot be stored or searched for (a NUL character, say)."),
            request.url.path,
        )

    @app.exception_handler(ClientDisconnect)
    async def _hung_up(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # The client gave up before its body was read (a timeout of its own): nothing was done, nothing is
        # wrong here, and no traceback is owed. The answer goes nowhere; it is a problem for form's sake.
        log.info("client disconnected before its request was read on %s %s", request.method, request.url.path)
        return problem_response(MalformedBody("The client closed the connection before the request was read."),
                                request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's fault: log the type (never the data) and answer in the same format.
        log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(InternalError(), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_PROBLEMS.get(exc.status_code)
        if exc.status_code == 400:
            # FastAPI's only 400: a body it could not decode (bytes that are not UTF-8, say).
            problem: Problem = MalformedBody("The body could not be parsed: not JSON in UTF-8, or nested too deeply.")
        elif cls is None:
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

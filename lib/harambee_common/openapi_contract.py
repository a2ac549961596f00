"""What each operation's OpenAPI entry says it answers: every error a problem document, under its status.

FastAPI documents a route's success and, in its own `application/json` shape, a 422; our handlers
answer every error as `application/problem+json` (problems.py). `document_problems(app)` rewrites the
document once, from what each route is built of, so that a new route has its errors documented
without a word from its author:

- any parameter or body: 422 (a ValidationProblem); a body: 400 (bytes that do not decode) and 413
  (over MAX_BODY_BYTES);
- a path parameter: 404 (what it names does not exist, or is not the caller's to see);
- an `If-Match` header: 412 and 428 (optimistic concurrency); an `Idempotency-Key` header: 409 (the key
  was used for another request, or its first request is still running);
- a dependency or endpoint that declares the problems it raises (`raises(...)` on a function, a
  `problems` attribute on a class): those, e.g. every Authenticator's 401, 403 and 404;
- `every_operation`: what any request may meet (503 when the database is away; 429 from the gateway);
- and what a route declares itself, `responses=responses_for(Conflict, ...)`, for the problems its
  own logic raises. tests/common/test_openapi_contract.py holds every component's document to this,
  and the contract test (tests/contract) finds any status a route answers that its entry does not list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from harambee_common.problems import (
    MEDIA_TYPE,
    Conflict,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
    ProblemDocument,
    ValidationFailed,
    ValidationProblemDocument,
)

F = TypeVar("F", bound=Callable[..., Any])
PROBLEM_SCHEMA = "Problem"
VALIDATION_PROBLEM_SCHEMA = "ValidationProblem"
# FastAPI's own 422 shape, which no handler of ours ever answers with.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
# Request headers whose very meaning is a refusal when they do not hold.
_HEADER_PROBLEMS: dict[str, tuple[type[Problem], ...]] = {
    "if-match": (PreconditionFailed, PreconditionRequired),
    "idempotency-key": (Conflict,),
}


def raises(*problems: type[Problem]) -> Callable[[F], F]:
    """Marks a dependency (or an endpoint) with the problems it may raise, for the OpenAPI document."""

    def mark(function: F) -> F:
        function.problems = (*getattr(function, "problems", ()), *problems)  # type: ignore[attr-defined]
        return function

    return mark


def problem_entry(status: int, description: str) -> dict[str, Any]:
    """One OpenAPI response: a problem document (a ValidationProblem for 422)."""
    name = VALIDATION_PROBLEM_SCHEMA if status == ValidationFailed.status else PROBLEM_SCHEMA
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def responses_for(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route raises itself (its route decorator's `responses=`)."""
    return {status: problem_entry(status, description) for status, description in _by_status(problems).items()}


def document_problems(app: FastAPI, *, every_operation: Sequence[type[Problem]] = ()) -> None:
    """Rewrites the app's OpenAPI document so that each operation lists the problems it can answer."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            routes = {(route.path_format, method.lower()): route for route in _api_routes(app)
                      for method in route.methods}
            for path, item in schema.get("paths", {}).items():
                for method, operation in item.items():
                    route = routes.get((path, method))
                    if route is not None:
                        _document(operation, [*problems_of(route), *every_operation])
            _add_problem_schemas(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _api_routes(app: FastAPI) -> Iterable[Any]:
    """Each API route as the app serves it (its prefix and its routers' dependencies included)."""
    # FastAPI 0.16x keeps included routers whole and gives each route its context as served; before, the
    # app's routes were the API routes themselves.
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def problems_of(route: Any) -> list[type[Problem]]:
    """The problems a route can answer, from its parameters, body and declared dependencies."""
    kinds = set(_parameter_kinds(route.dependant))
    headers = {name.lower() for name in _header_names(route.dependant)}
    found: list[type[Problem]] = []
    if kinds:
        found.append(ValidationFailed)
    if "body" in kinds:
        found += [MalformedBody, PayloadTooLarge]
    if "path" in kinds:
        found.append(NotFound)
    for header in sorted(headers & _HEADER_PROBLEMS.keys()):
        found += _HEADER_PROBLEMS[header]
    found += getattr(route.endpoint, "problems", ())
    found += _declared(route.dependant)
    return found


def _parameter_kinds(dependant: Dependant) -> Iterable[str]:
    """Where the route and its dependencies take parameters from: path, query, header, cookie, body."""
    for kind in ("path", "query", "header", "cookie", "body"):
        if getattr(dependant, f"{kind}_params"):
            yield kind
    for dependency in dependant.dependencies:
        yield from _parameter_kinds(dependency)


def _header_names(dependant: Dependant) -> Iterable[str]:
    for field in dependant.header_params:
        yield field.alias.replace("_", "-")
    for dependency in dependant.dependencies:
        yield from _header_names(dependency)


def _declared(dependant: Dependant) -> Iterable[type[Problem]]:
    for dependency in dependant.dependencies:
        yield from getattr(dependency.call, "problems", ())
        yield from _declared(dependency)


def _by_status(problems: Iterable[type[Problem]]) -> dict[int, str]:
    titles: dict[int, list[str]] = {}
    for problem in problems:
        seen = titles.setdefault(problem.status, [])
        if problem.title not in seen:
            seen.append(problem.title)
    return {status: "; ".join(each) for status, each in sorted(titles.items())}


def _document(operation: dict[str, Any], problems: Sequence[type[Problem]]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, description in _by_status(problems).items():
        current = responses.get(str(status))
        if current is None or _is_fastapi_validation(current):
            responses[str(status)] = problem_entry(status, description)
    for status, response in responses.items():
        # An error a route declared by status alone (`responses={409: {...}}`) is a problem document too.
        if status[0] in "45" and not response.get("content"):
            response["content"] = problem_entry(int(status), "")["content"]
    operation["responses"] = dict(sorted(responses.items()))


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").rsplit("/", 1)[-1] in _FASTAPI_VALIDATION_SCHEMAS


def _add_problem_schemas(schema: dict[str, Any]) -> None:
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    template = "#/components/schemas/{model}"
    for name, model in ((PROBLEM_SCHEMA, ProblemDocument), (VALIDATION_PROBLEM_SCHEMA, ValidationProblemDocument)):
        document = model.model_json_schema(ref_template=template)
        schemas.update(document.pop("$defs", {}))
        schemas[name] = document
    if f"/{_FASTAPI_VALIDATION_SCHEMAS[0]}'" not in repr(schema["paths"]):
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)

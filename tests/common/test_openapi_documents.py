"""Every component's OpenAPI document lists the errors each operation answers, as problem documents.

Read from the apps themselves (no database is reached to build a document), so a route added
anywhere is held to this the moment it exists. tests/contract then sends generated requests to the
running services and fails on any status or content type a document leaves out.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from harambee_common.components import COMPONENTS, GATEWAY
from harambee_common.problems import MEDIA_TYPE
from harambee_gateway.identity_providers import CALLBACK_PATH
from harambee_stack.keys import Keys
from tests.support.services import patched_env

# RFC 6749 §5.2: the token endpoint's errors are OAuth's own JSON (`error`, `error_description`).
OAUTH_ERRORS = {("/oauth/token", "post", "400"), ("/oauth/token", "post", "401")}
# The sign-in pages answer people, in HTML, whatever went wrong.
HTML_PAGES = ("/oauth/authorize", CALLBACK_PATH)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    keys = Keys.load_or_create(tmp_path_factory.mktemp("keys") / "secrets")
    found = {}
    for component in COMPONENTS:
        # An address nothing listens on: building the app and its document never connects.
        env = {"DATABASE_URL": "postgresql+psycopg://nobody:nothing@127.0.0.1:9/none", **keys.env(component.name)}
        with patched_env(env):
            app = importlib.import_module(f"{component.package}.app").create_app()
            found[component.name] = app.openapi()
    return found


def operations(documents: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for name, document in documents.items():
        for path, item in document["paths"].items():
            for method, operation in item.items():
                yield name, path, method, operation


def test_every_error_response_is_a_problem_document(documents: dict[str, dict[str, Any]]) -> None:
    wrong = []
    for name, path, method, operation in operations(documents):
        for status, response in operation["responses"].items():
            if status[0] not in "45" or (path, method, status) in OAUTH_ERRORS or path in HTML_PAGES:
                continue
            if list(response.get("content", {})) != [MEDIA_TYPE]:
                wrong.append(f"{name} {method.upper()} {path} {status}: {list(response.get('content', {}))}")
    assert not wrong, "\n".join(wrong)


def test_every_response_with_a_body_has_a_schema(documents: dict[str, dict[str, Any]]) -> None:
    missing = []
    for name, path, method, operation in operations(documents):
        for status, response in operation["responses"].items():
            if status in ("204", "302", "303"):
                continue
            content = response.get("content") or {}
            if not content or any(not media.get("schema") for media in content.values()):
                missing.append(f"{name} {method.upper()} {path} {status}")
    assert not missing, "\n".join(missing)


def test_what_a_route_is_built_of_is_documented(documents: dict[str, dict[str, Any]]) -> None:
    missing = []
    for name, path, method, operation in operations(documents):
        statuses = set(operation["responses"])
        expected = {"503"} | ({"429"} if name != GATEWAY.name else set())
        if (operation.get("parameters") or operation.get("requestBody")) and path != "/oauth/token":
            expected.add("422")  # the token endpoint answers a malformed request as RFC 6749 says, with 400
        if operation.get("requestBody"):
            expected |= {"400", "413"}
        if "{" in path:
            expected.add("404")
        # Every tenant route authenticates (no token, no scope, no role in the tenant); a directory's sign-in
        # callback, a page for people on their way to a token, names the tenant whose directory answers.
        if "{tenant}" in path and path not in HTML_PAGES:
            expected |= {"401", "403", "404"}
        if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
            expected |= {"412", "428"}
        if not expected <= statuses:
            missing.append(f"{name} {method.upper()} {path}: {sorted(expected - statuses)}")
    assert not missing, "\n".join(missing)


def test_fastapis_own_validation_shape_is_gone(documents: dict[str, dict[str, Any]]) -> None:
    for name, document in documents.items():
        assert "HTTPValidationError" not in str(document), name
        schemas = document["components"]["schemas"]
        assert {"type", "title", "status"} <= set(schemas["Problem"]["required"]), name
        assert schemas["ValidationProblem"]["properties"]["errors"], name


def test_a_route_declared_problem_is_documented_with_its_status(documents: dict[str, dict[str, Any]]) -> None:
    review = documents["audit"]["paths"]["/v1/tenants/{tenant}/read-alerts/{alert_id}/close"]["post"]
    assert review["responses"]["409"]["content"][MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    submit = documents["intake"]["paths"]["/v1/tenants/{tenant}/referrals"]["post"]
    assert "409" in submit["responses"]  # Idempotency-Key reused for another request


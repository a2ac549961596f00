"""Every service answers what its OpenAPI document says, under generated requests through the gateway.

Schemathesis (`st run`) reads each service's document from the gateway and sends at least
MIN_REQUESTS generated requests per service — valid and invalid, plus stateful sequences that use
what one call returns in the next — with a real token of a client of the tenant, the `{tenant}` path
parameter fixed to that client's own tenant. A run fails on any 5xx, any response that breaks its
schema, any content type or status code its operation does not document, an invalid request that is
accepted, or a request without its token that is not refused.

The whole platform runs here as real processes (the `platform` stack of tests/conftest.py). Bounds: the
examples per operation are counted to give MIN_REQUESTS and a little more, and a run that takes longer
than MAX_SECONDS fails; CONTRACT_EXAMPLES raises the examples per operation for a longer run before a
release (README, "Contract test"). The gateway's own API is run too, as far as it changes nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harambee_common.components import GATEWAY, SERVICES
from harambee_stack.stack import Stack
from tests.e2e.helpers import demo_client

# The demo client whose token drives each service's run: the one that may do the most there.
PRINCIPALS = {
    "intake": "mombasa-intake-officer",
    "assessment": "mombasa-case-worker",
    "interventions": "mombasa-case-worker",
    "audit": "mombasa-compliance",
    "monitoring": "mombasa-programme-manager",
}
# The gateway's own API is run too, as the platform administrator, but only what changes nothing (reads,
# token requests, the sign-in page): generated writes to the registry would revoke the clients this uses.
# Selected on the command line, not cut from the document: its unsupported_method check would send the
# methods cut out (a POST that rotates the signing key) and expect 405. (Selections of one kind are or-ed.)
GATEWAY_SELECTIONS = (("--include-method", "GET"), ("--include-path", "/oauth/token"))
TENANT = "ke-mombasa"
MIN_REQUESTS = 2000
# A run's bound (it fails past it): CI's runs take about two minutes each on two shared cores.
MAX_SECONDS = int(os.environ.get("CONTRACT_MAX_SECONDS", "600"))
# Every check but positive_data_acceptance, which wants a 2xx for any schema-valid request: a
# well-formed cursor the API never issued, or an id that names nothing, is rightly a 422 or a 404.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
    "response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,"
    "ignored_auth,use_after_free,ensure_resource_availability"
)


@pytest.fixture(scope="module")
def stack(platform: Stack) -> Stack:
    """The platform (tests/conftest.py), which no other suite changes: e2e tests have their own."""
    return platform


def access_token(stack: Stack, name: str) -> str:
    """A client-credentials token of one demo client."""
    client = demo_client(stack, name)
    response = httpx.post(f"{stack.gateway_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def examples_per_operation(document: dict) -> int:
    """Examples per operation: CONTRACT_EXAMPLES, or enough that a service's operations give MIN_REQUESTS."""
    operations = sum(len(item) for item in document["paths"].values())
    # Schemathesis adds coverage cases and stateful sequences to the examples (intake: 40 operations, 10
    # examples each, ~2,500 requests); past a hundred, an operation with few parameters has no new inputs
    # left, so a small API gets more runs (seeds) instead.
    return int(os.environ.get("CONTRACT_EXAMPLES", "0")) or min(100, math.ceil(0.3 * MIN_REQUESTS / operations))


def test_every_service_has_a_principal_for_its_contract_run() -> None:
    assert {s.name for s in SERVICES} <= set(PRINCIPALS), "give the new service a demo client in PRINCIPALS"


@pytest.mark.parametrize("service", [*sorted(PRINCIPALS), GATEWAY.name])
def test_service_answers_as_its_openapi_document_says(stack: Stack, service: str, tmp_path: Path) -> None:
    is_gateway = service == GATEWAY.name
    base = stack.gateway_url if is_gateway else f"{stack.gateway_url}/{service}"
    principal = "platform-admin" if is_gateway else PRINCIPALS[service]
    document = httpx.get(f"{base}/openapi.json", timeout=30).json()
    selections = GATEWAY_SELECTIONS if is_gateway else ((),)
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(document))
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.tenant" = "{TENANT}"\n')
    token = access_token(stack, principal)
    started, generated, runs = time.monotonic(), 0, 0
    # Run after run, each with its own seed, until MIN_REQUESTS (a small API's first run gives fewer).
    while generated < MIN_REQUESTS and time.monotonic() - started < MAX_SECONDS:
        runs += 1
        log = stack.logs_dir / f"contract-{service}-{runs}.txt"
        output = _run(schema=schema, config=config, base=base, token=token, seed=13 + runs,
                      examples=examples_per_operation(document), report=log.with_suffix(".xml"),
                      selection=selections[(runs - 1) % len(selections)],
                      timeout=MAX_SECONDS - (time.monotonic() - started))
        log.write_text(output.stdout + output.stderr)
        assert output.returncode == 0, f"{service}: a run failed (all of it in {log})\n{output.stdout[-15000:]}"
        counted = re.search(r"(\d+) generated", output.stdout)
        assert counted, output.stdout[-3000:]
        generated += int(counted.group(1))
    print(f"contract {service}: {generated} requests generated in {runs} run(s), "
          f"{time.monotonic() - started:.0f}s")
    assert generated >= MIN_REQUESTS, f"{service}: only {generated} requests within {MAX_SECONDS}s"
    # The generated requests are refused or answered; none may cost a service its health.
    assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200


def _run(*, schema: Path, config: Path, base: str, token: str, seed: int, examples: int, report: Path,
         selection: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess[str]:
    """One `st run` over the document, every check but positive_data_acceptance on every answer."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run", str(schema),
         "--url", base, "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
         "--max-examples", str(examples), "--workers", "1", "--seed", str(seed), "--no-color",
         "--suppress-health-check", "all", "--generation-database", "none",
         "--report", "junit", "--report-junit-path", str(report), *selection],
        capture_output=True, text=True, timeout=max(timeout, 1), check=False,
    )

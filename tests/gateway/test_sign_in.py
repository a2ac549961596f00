"""People sign in with the authorization-code flow and PKCE, driven by a real HTTP client.

The gateway runs on uvicorn on 127.0.0.1; a stand-in single-page app on another loopback port
receives the redirect. The client follows redirects as a browser would, then exchanges the code.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest

from harambee_common.migrations import upgrade
from harambee_gateway.__main__ import main
from harambee_gateway.app import create_app
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, form_fields, new_person, spa_callback, verifier_for
from tests.gateway.conftest import ISSUER, gateway_settings, serving
from tests.support.services import patched_env, rows


@pytest.fixture(scope="module")
def database(postgres: Any) -> ComponentDatabase:
    database = postgres.provision("gateway")
    upgrade(package="harambee_gateway", url=database.owner)
    return database


@pytest.fixture(scope="module")
def demo(database: ComponentDatabase, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("seed") / "demo.json"
    with patched_env({"DATABASE_URL": database.app}):
        main(["seed-demo", "--out", str(out), "--gateway-url", ISSUER])
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def callback_url() -> Iterator[str]:
    with serving(spa_callback) as url:
        yield f"{url}/callback"


@pytest.fixture(scope="module")
def gateway_url(database: ComponentDatabase, signing_key_pem: bytes) -> Iterator[str]:
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def admin(gateway_url: str, demo: dict) -> Iterator[httpx.Client]:
    """An HTTP client holding the platform administrator's token."""
    creds = next(c for c in demo["clients"] if c["name"] == "platform-admin")
    token = httpx.post(
        f"{gateway_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
    ).json()["access_token"]
    with httpx.Client(base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="module")
def app_client_id(admin: httpx.Client, callback_url: str) -> str:
    """A single-page app registered through the admin API, redirecting to the stand-in."""
    response = admin.post(
        "/admin/v1/clients",
        json={
            "name": f"web-{uuid.uuid4().hex[:6]}",
            "client_type": "public",
            "redirect_uris": [callback_url],
            "allowed_scopes": ["referrals:read", "referrals:write", "cases:read"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["client_secret"] is None
    return response.json()["client_id"]


@pytest.fixture
def browser(gateway_url: str, app_client_id: str, callback_url: str) -> Iterator[Browser]:
    browser = Browser(gateway_url, app_client_id, callback_url)
    yield browser
    browser.http.close()


def test_a_person_signs_in_with_pkce_and_gets_a_token_with_their_roles(
    browser: Browser, admin: httpx.Client, gateway_url: str
) -> None:
    person_id, username, password = new_person(admin, "ke-mombasa", "case_worker")
    landed = browser.sign_in(username, password)
    assert landed.status_code == 200, landed.text
    assert str(landed.url).startswith(browser.redirect_uri)
    assert landed.history[0].status_code == 302  # the gateway redirected the browser to the app
    returned = landed.json()
    assert returned["state"] == browser.state

    token = browser.exchange(returned["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    # The app asked for referrals:write too; a case worker's role does not allow it.
    assert set(body["scope"].split()) == {"referrals:read", "cases:read"}
    principal = verifier_for(gateway_url).verify(body["access_token"])
    assert principal.subject == person_id
    assert principal.client_id == browser.client_id
    assert principal.tenants == {"ke-mombasa": frozenset({"case_worker"})}
    assert principal.scopes == {"referrals:read", "cases:read"}


def test_a_code_works_once(browser: Browser, admin: httpx.Client) -> None:
    _, username, password = new_person(admin, "ke-mombasa", "intake_officer")
    code = browser.sign_in(username, password).json()["code"]
    assert browser.exchange(code).status_code == 200
    again = browser.exchange(code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_the_apps_own_origin_may_read_the_token_response(browser: Browser, admin: httpx.Client) -> None:
    _, username, password = new_person(admin, "ke-mombasa", "case_worker")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(browser.redirect_uri))
    answered = browser.exchange(browser.sign_in(username, password).json()["code"], origin=origin)
    assert answered.status_code == 200
    assert answered.headers["access-control-allow-origin"] == origin
    other = browser.exchange(browser.sign_in(username, password).json()["code"], origin="https://elsewhere.example")
    assert other.status_code == 200  # the server answers; the browser will not let that page read it
    assert "access-control-allow-origin" not in other.headers


def test_a_wrong_verifier_gets_no_token(browser: Browser, admin: httpx.Client) -> None:
    _, username, password = new_person(admin, "ke-mombasa", "case_worker")
    code = browser.sign_in(username, password).json()["code"]
    stolen = browser.exchange(code, verifier=secrets.token_urlsafe(48))
    assert (stolen.status_code, stolen.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["no-pkce", "plain", "method-omitted"],
)
def test_pkce_with_s256_is_required(browser: Browser, overrides: dict) -> None:
    landed = browser.open_sign_in(**overrides)
    # The redirect URI is registered, so the refusal goes back to the app, with its state.
    assert str(landed.url).startswith(browser.redirect_uri)
    assert landed.json()["error"] == "invalid_request"
    assert landed.json()["state"] == browser.state


def test_an_unregistered_redirect_uri_is_never_redirected_to(browser: Browser) -> None:
    page = browser.open_sign_in(redirect_uri="https://attacker.example/steal")
    assert page.status_code == 400
    assert not page.history
    assert "not valid" in page.text


def test_a_machine_client_cannot_start_a_sign_in(browser: Browser, demo: dict) -> None:
    partner = next(c for c in demo["clients"] if c["name"] == "mombasa-youth-cso-system")
    page = browser.open_sign_in(client_id=partner["client_id"])
    assert page.status_code == 400 and not page.history


def test_a_wrong_password_shows_the_form_again(browser: Browser, admin: httpx.Client) -> None:
    _, username, _ = new_person(admin, "ke-mombasa", "case_worker")
    page = browser.sign_in(username, "not the password")
    assert page.status_code == 401
    assert not page.history
    assert "wrong" in page.text
    assert form_fields(page.text)["code_challenge"]  # the request survives for another try
    assert page.headers["x-frame-options"] == "DENY"
    unknown = browser.sign_in("nobody-" + uuid.uuid4().hex[:6], "whatever")
    assert unknown.status_code == 401


def test_repeated_failures_lock_the_account(browser: Browser, admin: httpx.Client) -> None:
    _, username, password = new_person(admin, "ke-mombasa", "case_worker")
    for _ in range(10):
        assert browser.sign_in(username, "wrong password").status_code == 401
    locked = browser.sign_in(username, password)
    assert locked.status_code == 401 and "locked" in locked.text


def test_a_tenant_can_require_a_second_factor(browser: Browser, admin: httpx.Client, gateway_url: str) -> None:
    tenant = f"ke-totp-{uuid.uuid4().hex[:6]}"
    admin.post("/admin/v1/tenants", json={"slug": tenant, "name": "T", "kind": "county", "require_totp": True})
    person_id, username, password = new_person(admin, tenant, "case_worker")
    not_enrolled = browser.sign_in(username, password)
    assert not_enrolled.status_code == 401 and "administrator" in not_enrolled.text

    factor = admin.post(f"/admin/v1/people/{person_id}/second-factor").json()
    assert factor["otpauth_uri"].startswith("otpauth://totp/")
    asked = browser.sign_in(username, password)
    assert asked.status_code == 401 and "one-time code" in asked.text

    code = pyotp.TOTP(factor["secret"]).now()
    landed = browser.sign_in(username, password, otp=code)
    assert landed.status_code == 200, landed.text
    token = browser.exchange(landed.json()["code"]).json()["access_token"]
    claims = json.loads(_payload(token))
    assert {"pwd", "otp"} <= set(claims["amr"])
    assert verifier_for(gateway_url).verify(token).tenants == {tenant: frozenset({"case_worker"})}

    replayed = browser.sign_in(username, password, otp=code)
    assert replayed.status_code == 401  # a one-time code is good once


def _payload(token: str) -> str:
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def test_sign_ins_and_failures_are_published_for_the_audit_log_without_names(
    browser: Browser, admin: httpx.Client, database: ComponentDatabase
) -> None:
    person_id, username, password = new_person(admin, "ke-mombasa", "case_worker")
    assert browser.sign_in(username, "wrong-password").status_code == 401
    assert browser.sign_in(username, password).status_code == 200
    succeeded = rows(database.owner, "SELECT tenant_id, subject, data FROM outbox WHERE type = 'sign_in.succeeded' "
                     "AND subject = :p", p=person_id)
    assert [(r.tenant_id, r.data["actor"]) for r in succeeded] == [("ke-mombasa", person_id)]
    failed = rows(database.owner, "SELECT data::text AS data FROM outbox WHERE type = 'sign_in.failed'")
    assert failed and all(username not in r.data and "wrong-password" not in r.data for r in failed)

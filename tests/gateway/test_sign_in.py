"""People sign in with the authorization-code flow and PKCE, driven by a real HTTP client.

The gateway runs on uvicorn on 127.0.0.1; a stand-in single-page app on another loopback port
receives the redirect. The client follows redirects as a browser would, then exchanges the code.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest

from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, enrol_second_factor, form_fields, new_person, verifier_for
from tests.support.services import rows


def test_a_person_signs_in_with_pkce_and_gets_a_token_with_their_roles(
    browser: Browser, admin_api: httpx.Client, gateway_url: str
) -> None:
    person_id, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
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


def test_a_code_works_once(browser: Browser, admin_api: httpx.Client) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    code = browser.sign_in(username, password).json()["code"]
    assert browser.exchange(code).status_code == 200
    again = browser.exchange(code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_the_apps_own_origin_may_read_the_token_response(browser: Browser, admin_api: httpx.Client) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(browser.redirect_uri))
    answered = browser.exchange(browser.sign_in(username, password).json()["code"], origin=origin)
    assert answered.status_code == 200
    assert answered.headers["access-control-allow-origin"] == origin
    other = browser.exchange(browser.sign_in(username, password).json()["code"], origin="https://elsewhere.example")
    assert other.status_code == 200  # the server answers; the browser will not let that page read it
    assert "access-control-allow-origin" not in other.headers


def test_a_wrong_verifier_gets_no_token(browser: Browser, admin_api: httpx.Client) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
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
    partner = demo["mombasa-youth-cso-system"]
    page = browser.open_sign_in(client_id=partner["client_id"])
    assert page.status_code == 400 and not page.history


def test_a_wrong_password_shows_the_form_again(browser: Browser, admin_api: httpx.Client) -> None:
    _, username, _ = new_person(admin_api, "ke-mombasa", "case_worker")
    page = browser.sign_in(username, "not the password")
    assert page.status_code == 401
    assert not page.history
    assert "wrong" in page.text
    assert form_fields(page.text)["code_challenge"]  # the request survives for another try
    assert page.headers["x-frame-options"] == "DENY"
    unknown = browser.sign_in("nobody-" + uuid.uuid4().hex[:6], "whatever")
    assert unknown.status_code == 401


def test_repeated_failures_lock_the_account(browser: Browser, admin_api: httpx.Client) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    for _ in range(10):
        assert browser.sign_in(username, "wrong password").status_code == 401
    locked = browser.sign_in(username, password)
    assert locked.status_code == 401 and "locked" in locked.text


def test_a_tenant_can_require_a_second_factor(browser: Browser, admin_api: httpx.Client, gateway_url: str) -> None:
    tenant = f"ke-totp-{uuid.uuid4().hex[:6]}"
    admin_api.post("/admin/v1/tenants", json={"slug": tenant, "name": "T", "kind": "county", "require_totp": True})
    person_id, username, password = new_person(admin_api, tenant, "case_worker")
    not_enrolled = browser.sign_in(username, password)
    assert not_enrolled.status_code == 401 and "administrator" in not_enrolled.text

    secret = enrol_second_factor(admin_api, person_id)
    asked = browser.sign_in(username, password)
    assert asked.status_code == 401 and "one-time code" in asked.text

    code = pyotp.TOTP(secret).now()
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
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase
) -> None:
    person_id, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    assert browser.sign_in(username, "wrong-password").status_code == 401
    assert browser.sign_in(username, password).status_code == 200
    succeeded = rows(database.owner, "SELECT tenant_id, subject, data FROM outbox WHERE type = 'sign_in.succeeded' "
                     "AND subject = :p", p=person_id)
    assert [(r.tenant_id, r.data["actor"]) for r in succeeded] == [("ke-mombasa", person_id)]
    failed = rows(database.owner, "SELECT data::text AS data FROM outbox WHERE type = 'sign_in.failed'")
    assert failed and all(username not in r.data and "wrong-password" not in r.data for r in failed)

"""Every refusal of the token and authorization endpoints carries the error code RFC 6749 gives it.

Token endpoint (§5.2): invalid_request for a request that is malformed — a missing grant_type, a
repeated parameter, a client authenticated two ways at once; unsupported_grant_type only for a
grant type the server does not know; invalid_client (401, with WWW-Authenticate for Basic) when the
client cannot be authenticated; unauthorized_client for a grant type the client may not use;
invalid_grant and invalid_scope for the grant and the scope. Authorization endpoint (§4.1.2.1):
invalid_request for a missing response_type, unsupported_response_type for an unknown one,
invalid_scope, and each goes back to the app only when its redirect URI is registered.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.gateway.browser import Browser


@pytest.fixture
def partner(demo: dict) -> tuple[str, str]:
    client = demo["mombasa-youth-cso-system"]
    return client["client_id"], client["client_secret"]


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and RFC 6749 error code of a refused token request (checking its shape as it goes)."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()["error"]


def test_a_token_request_without_grant_type_is_invalid_request(gateway: TestClient, partner) -> None:
    response = gateway.post("/oauth/token", data={"scope": "referrals:read"}, auth=partner)
    assert refusal(response) == (400, "invalid_request")
    assert "grant_type" in response.json()["error_description"]


def test_an_empty_or_json_token_request_is_invalid_request(gateway: TestClient, partner) -> None:
    assert refusal(gateway.post("/oauth/token", auth=partner)) == (400, "invalid_request")
    as_json = gateway.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=partner)
    assert refusal(as_json) == (400, "invalid_request")


def test_a_repeated_parameter_is_invalid_request(gateway: TestClient, partner) -> None:
    twice = gateway.post("/oauth/token", content="grant_type=client_credentials&scope=referrals:read&scope=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=partner)
    assert refusal(twice) == (400, "invalid_request")


def test_a_client_authenticated_two_ways_is_invalid_request(gateway: TestClient, partner) -> None:
    client_id, secret = partner
    both = gateway.post("/oauth/token", auth=partner, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert refusal(both) == (400, "invalid_request")


def test_an_unknown_grant_type_is_unsupported_grant_type(gateway: TestClient, partner) -> None:
    response = gateway.post("/oauth/token", data={"grant_type": "urn:example:unknown"}, auth=partner)
    assert refusal(response) == (400, "unsupported_grant_type")


def test_a_client_that_cannot_be_authenticated_is_invalid_client(gateway: TestClient, partner) -> None:
    client_id, _ = partner
    wrong = gateway.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "wrong"))
    assert refusal(wrong) == (401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic")
    anonymous = gateway.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert refusal(anonymous) == (401, "invalid_client")


def test_a_grant_type_the_client_may_not_use_is_unauthorized_client(gateway: TestClient, partner) -> None:
    # A machine client authenticates properly, but only people's apps redeem authorization codes.
    response = gateway.post("/oauth/token", auth=partner, data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": "https://app.example/cb"})
    assert refusal(response) == (400, "unauthorized_client")


def test_a_public_client_cannot_use_client_credentials(browser: Browser) -> None:
    response = browser.http.post(f"{browser.gateway_url}/oauth/token",
                                 data={"grant_type": "client_credentials", "client_id": browser.client_id})
    assert refusal(response) == (401, "invalid_client")  # it has no secret to authenticate with


def test_a_code_that_was_never_issued_is_invalid_grant(browser: Browser) -> None:
    assert refusal(browser.exchange("never-issued")) == (400, "invalid_grant")


def test_a_scope_beyond_the_grant_is_invalid_scope(gateway: TestClient, partner) -> None:
    response = gateway.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "audit:read"},
                            auth=partner)
    assert refusal(response) == (400, "invalid_scope")


def test_no_error_description_can_break_the_token_endpoint(gateway: TestClient, partner) -> None:
    # Parameter names are the client's text; none of it may reach a description OAuth keeps to plain ASCII.
    response = gateway.post("/oauth/token", content='grant_type=client_credentials&"\\x=1&"\\x=2',
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=partner)
    assert refusal(response) == (400, "invalid_request")


def test_an_authorization_request_without_response_type_is_invalid_request(browser: Browser) -> None:
    landed = browser.open_sign_in(response_type=None)
    assert str(landed.url).startswith(browser.redirect_uri)  # registered: the app hears of it, with its state
    assert landed.json()["error"] == "invalid_request"
    assert landed.json()["state"] == browser.state


def test_an_unknown_response_type_is_unsupported_response_type(browser: Browser) -> None:
    landed = browser.open_sign_in(response_type="token")
    assert str(landed.url).startswith(browser.redirect_uri)
    assert landed.json()["error"] == "unsupported_response_type"


def test_an_unknown_scope_in_an_authorization_request_is_invalid_scope(browser: Browser) -> None:
    landed = browser.open_sign_in(scope="cases:read everything")
    assert str(landed.url).startswith(browser.redirect_uri)
    assert landed.json()["error"] == "invalid_scope"


def test_a_missing_response_type_with_an_unregistered_redirect_is_shown_not_sent(browser: Browser) -> None:
    page = browser.open_sign_in(response_type=None, redirect_uri="https://attacker.example/steal")
    assert page.status_code == 400 and not page.history
    assert "response_type is required" in page.text

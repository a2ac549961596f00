"""A county that trusts its own OpenID Connect provider: people sign in there, and only linked people get in.

Everything runs as a person would meet it, on 127.0.0.1: the gateway on uvicorn, a stand-in
single-page app, and a stand-in OpenID Connect provider written here (discovery, JWKS, an
authorize endpoint that sends the person straight back with a code, and a token endpoint that
checks PKCE and the client's secret and returns an ID token signed with a key this test holds).
A real HTTP client follows every redirect, from the app's link to the code in the app's hands.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from harambee_gateway.app import create_app
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, new_person, verifier_for
from tests.gateway.conftest import free_port, gateway_settings, serving
from tests.support.services import rows

# --- the stand-in provider ----------------------------------------------------------------------


@dataclass
class StandInProvider:
    """A county directory: who is signed in there next, and what its ID token says, set by each test."""

    issuer: str = ""
    client_id: str = "harambee-gateway"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "county-1", "alg": "RS256"}))
    # The next sign-in: the person signed in at the directory, and claims the test wants changed.
    subject: str = "directory-user"
    claims: dict[str, Any] = field(default_factory=dict)
    signing_key: RSAKey | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # RFC 9207: whether its discovery document says it names itself, and whether its answers do.
    advertises_iss: bool = False
    sends_iss: bool = False

    def reset(self) -> None:
        self.subject, self.claims, self.signing_key = "directory-user", {}, None
        self.advertises_iss = self.sends_iss = False
        self.token_requests.clear()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": self.advertises_iss,
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        """The person is signed in at the directory already: straight back with a code."""
        query = request.query_params
        if (
            query.get("client_id") != self.client_id
            or query.get("response_type") != "code"
            or "openid" not in (query.get("scope") or "").split()
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or not query.get("nonce")
            or not query.get("state")
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": query["redirect_uri"],
            "code_challenge": query["code_challenge"],
            "nonce": query["nonce"],
            "subject": self.subject,
        }
        answer = {"code": code, "state": query["state"], **({"iss": self.issuer} if self.sends_iss else {})}
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode(answer)}", 302)

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != issued["code_challenge"] or form.get("redirect_uri") != issued["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": issued["subject"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now - 5,
            "nonce": issued["nonce"],
            "amr": ["pwd", "mfa"],
            "email": f"{issued['subject']}@county.example",
            "email_verified": True,
            **self.claims,
        }
        header = {"alg": "RS256", "kid": self.key.kid}
        id_token = jwt.encode(header, claims, self.signing_key or self.key)
        return JSONResponse({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway_url(database: ComponentDatabase, signing_key_pem: bytes) -> Iterator[str]:
    """The gateway, on a port chosen first: its issuer URL (where providers send people back) is its own."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app, issuer=issuer)
    with serving(create_app(settings), port=port) as url:
        yield url


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandInProvider]:
    provider = StandInProvider()
    with serving(provider.app()) as url:
        provider.issuer = url
        yield provider


@pytest.fixture
def provider(stand_in: StandInProvider) -> Iterator[StandInProvider]:
    stand_in.reset()
    yield stand_in
    stand_in.reset()


def new_tenant(admin_api: httpx.Client) -> str:
    slug = f"ke-county-{uuid.uuid4().hex[:6]}"
    created = admin_api.post("/admin/v1/tenants", json={"slug": slug, "name": "A county", "kind": "county"})
    assert created.status_code == 201, created.text
    return slug


def configure(admin_api: httpx.Client, tenant: str, provider: StandInProvider, **changes: Any) -> httpx.Response:
    """Points the tenant at the stand-in provider by its issuer alone: the rest is discovered."""
    body = {"issuer": provider.issuer, "client_id": provider.client_id, "client_secret": provider.client_secret}
    return admin_api.put(f"/admin/v1/tenants/{tenant}/identity-provider", json={**body, **changes})


@pytest.fixture(scope="module")
def county(admin_api: httpx.Client, stand_in: StandInProvider) -> str:
    """A county tenant that signs its people in through the stand-in provider."""
    tenant = new_tenant(admin_api)
    configured = configure(admin_api, tenant, stand_in)
    assert configured.status_code == 200, configured.text
    return tenant


def linked_person(admin_api: httpx.Client, tenant: str, role: str) -> tuple[str, str]:
    """A person with a role in the tenant, linked to a fresh subject at its provider; returns both."""
    person_id, _, _ = new_person(admin_api, tenant, role)
    subject = f"staff-{uuid.uuid4().hex[:8]}"
    link = admin_api.post(
        f"/admin/v1/tenants/{tenant}/identity-provider/links", json={"subject": subject, "person_id": person_id}
    )
    assert link.status_code == 201, link.text
    return person_id, subject


def claims_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


# --- the administrator's side --------------------------------------------------------------------


def test_an_administrator_points_a_county_at_its_directory_and_its_secret_never_comes_back(
    admin_api: httpx.Client, provider: StandInProvider, gateway_url: str, database: ComponentDatabase
) -> None:
    tenant = new_tenant(admin_api)
    configured = configure(admin_api, tenant, provider, subject_claim="sub")
    assert configured.status_code == 200, configured.text
    view = configured.json()
    # Discovered from the issuer's /.well-known/openid-configuration.
    assert view["authorization_endpoint"] == f"{provider.issuer}/authorize"
    assert view["token_endpoint"] == f"{provider.issuer}/token"
    assert view["jwks_uri"] == f"{provider.issuer}/jwks"
    assert view["scopes"] == ["openid"]
    # What the administrator registers at the directory as the redirect URI.
    assert view["redirect_uri"] == f"{gateway_url}/oauth/external/callback/{tenant}"
    assert view["client_secret_set"] is True
    fetched = admin_api.get(f"/admin/v1/tenants/{tenant}/identity-provider")
    assert fetched.status_code == 200
    for answer in (configured, fetched):
        assert provider.client_secret not in answer.text

    # Stored sealed, not in clear; changing other settings keeps the stored secret.
    query = "SELECT encrypted_client_secret FROM identity_providers WHERE tenant = :t"
    (stored,) = rows(database.owner, query, t=tenant)
    assert provider.client_secret.encode() not in bytes(stored.encrypted_client_secret)
    again = admin_api.put(
        f"/admin/v1/tenants/{tenant}/identity-provider",
        json={"issuer": provider.issuer, "client_id": provider.client_id, "scopes": ["openid", "profile"]},
    )
    assert again.status_code == 200, again.text
    assert again.json()["scopes"] == ["openid", "profile"]

    person_id, _, _ = new_person(admin_api, tenant, "case_worker")
    linked = admin_api.post(
        f"/admin/v1/tenants/{tenant}/identity-provider/links",
        json={"subject": "amina.odhiambo", "person_id": person_id},
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["issuer"] == provider.issuer
    listed = admin_api.get(f"/admin/v1/tenants/{tenant}/identity-provider/links").json()
    assert [link["person_id"] for link in listed["items"]] == [person_id]

    # Published as events, by reference: neither the secret nor the external subject.
    events = rows(
        database.owner,
        "SELECT type, subject, data::text AS data FROM outbox WHERE tenant_id = :t ORDER BY seq",
        t=tenant,
    )
    types = [e.type for e in events]
    assert types.count("identity_provider.configured") == 2
    assert "external_identity.linked" in types
    linked_event = next(e for e in events if e.type == "external_identity.linked")
    assert linked_event.subject == person_id
    everything = " ".join(e.data for e in events)
    assert provider.client_secret not in everything
    assert "amina.odhiambo" not in everything


def test_configuration_errors_are_problems(admin_api: httpx.Client, provider: StandInProvider) -> None:
    tenant = new_tenant(admin_api)
    problems = {
        "no secret the first time": configure(admin_api, tenant, provider, client_secret=None),
        "plain http off the loopback": configure(admin_api, tenant, provider, issuer="http://directory.example"),
        "an issuer whose discovery names another": configure(admin_api, tenant, provider, issuer=provider.issuer + "/"),
        "scopes without openid": configure(admin_api, tenant, provider, scopes=["email"]),
        "the platform tenant": configure(admin_api, "platform", provider),
    }
    for case, response in problems.items():
        assert response.status_code == 422, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        assert provider.client_secret not in response.text
    assert configure(admin_api, "ke-nowhere-0000", provider).status_code == 404
    assert admin_api.get(f"/admin/v1/tenants/{tenant}/identity-provider").status_code == 404
    # No provider, so nothing to link to.
    person_id, _, _ = new_person(admin_api, tenant, "case_worker")
    link = admin_api.post(
        f"/admin/v1/tenants/{tenant}/identity-provider/links", json={"subject": "x", "person_id": person_id}
    )
    assert link.status_code == 404


def test_a_subject_and_a_person_are_linked_once(admin_api: httpx.Client, county: str) -> None:
    person_id, subject = linked_person(admin_api, county, "case_worker")
    links = f"/admin/v1/tenants/{county}/identity-provider/links"
    other_id, _, _ = new_person(admin_api, county, "case_worker")
    assert admin_api.post(links, json={"subject": subject, "person_id": other_id}).status_code == 409
    assert admin_api.post(links, json={"subject": "someone-else", "person_id": person_id}).status_code == 409
    assert admin_api.post(links, json={"subject": "nobody", "person_id": str(uuid.uuid4())}).status_code == 422


# --- signing in ----------------------------------------------------------------------------------


def test_a_person_signs_in_through_their_countys_directory_and_holds_their_roles_there(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str, gateway_url: str
) -> None:
    person_id, subject = linked_person(admin_api, county, "case_worker")
    # A role elsewhere too: a sign-in vouched for by this county's directory carries this county's only.
    admin_api.post(f"/admin/v1/people/{person_id}/roles", json={"tenant": "ke-mombasa", "role": "intake_officer"})
    provider.subject = subject

    landed = browser.open_sign_in(tenant=county)

    assert landed.status_code == 200, landed.text
    assert str(landed.url).startswith(browser.redirect_uri)
    hops = [str(r.url).split("?")[0] for r in landed.history]
    assert hops == [
        f"{gateway_url}/oauth/authorize",  # the app's link, naming the county
        f"{provider.issuer}/authorize",  # the county's directory
        f"{gateway_url}/oauth/external/callback/{county}",  # back at the gateway, which resumes the app's request
    ]
    sent_to_provider = dict(httpx.URL(str(landed.history[1].url)).params)
    assert sent_to_provider["code_challenge_method"] == "S256" and sent_to_provider["nonce"]
    assert sent_to_provider["redirect_uri"] == f"{gateway_url}/oauth/external/callback/{county}"
    (token_request,) = provider.token_requests  # the gateway redeemed the code with its PKCE verifier
    assert token_request["code_verifier"]
    assert landed.json()["state"] == browser.state

    token = browser.exchange(landed.json()["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    principal = verifier_for(gateway_url, issuer=gateway_url).verify(body["access_token"])
    assert principal.subject == person_id
    assert principal.client_id == browser.client_id
    assert principal.tenants == {county: frozenset({"case_worker"})}
    assert principal.scopes == {"referrals:read", "cases:read"}
    claims = claims_of(body["access_token"])
    assert claims["amr"] == ["pwd", "mfa"]  # as the directory reported them


def test_password_sign_in_confers_no_role_in_a_county_that_uses_its_directory(
    browser: Browser, admin_api: httpx.Client, county: str, gateway_url: str
) -> None:
    _, username, password = new_person(admin_api, county, "case_worker")
    refused = browser.sign_in(username, password)
    assert refused.status_code == 401 and not refused.history
    assert "own directory" in refused.text

    person_id, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    admin_api.post(f"/admin/v1/people/{person_id}/roles", json={"tenant": county, "role": "case_worker"})
    landed = browser.sign_in(username, password)
    token = browser.exchange(landed.json()["code"]).json()["access_token"]
    assert verifier_for(gateway_url, issuer=gateway_url).verify(token).tenants == {
        "ke-mombasa": frozenset({"case_worker"})
    }


@pytest.mark.parametrize(
    "tampering",
    ["wrong-nonce", "wrong-audience", "another-key", "wrong-issuer", "expired"],
)
def test_an_id_token_not_meant_for_this_sign_in_is_refused(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str, gateway_url: str, tampering: str
) -> None:
    _, subject = linked_person(admin_api, county, "case_worker")
    provider.subject = subject
    if tampering == "wrong-nonce":
        provider.claims = {"nonce": secrets.token_urlsafe(32)}
    elif tampering == "wrong-audience":
        provider.claims = {"aud": "some-other-client"}
    elif tampering == "another-key":
        # Same kid as the published key: only the signature check can tell.
        provider.signing_key = RSAKey.generate_key(2048, {"kid": provider.key.kid, "alg": "RS256"})
    elif tampering == "wrong-issuer":
        provider.claims = {"iss": "https://impostor.example"}
    else:
        provider.claims = {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 600}

    page = browser.open_sign_in(tenant=county)

    assert page.status_code == 401, page.text
    assert str(page.url).startswith(f"{gateway_url}/oauth/external/callback")
    assert "could not be verified" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert not any(str(r.url).startswith(browser.redirect_uri) for r in page.history)


def test_an_unknown_external_subject_is_refused_and_nobody_is_created(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str, gateway_url: str, database: Any
) -> None:
    provider.subject = f"stranger-{uuid.uuid4().hex[:8]}"
    people_before = rows(database.owner, "SELECT count(*) AS n FROM people")[0].n

    page = browser.open_sign_in(tenant=county)

    assert page.status_code == 403, page.text
    assert str(page.url).startswith(f"{gateway_url}/oauth/external/callback")
    assert "not linked" in page.text and "administrator" in page.text
    assert provider.subject not in page.text
    assert rows(database.owner, "SELECT count(*) AS n FROM people")[0].n == people_before
    assert not rows(database.owner, "SELECT 1 FROM external_identities WHERE subject = :s", s=provider.subject)


def test_an_unlinked_subject_no_longer_signs_in(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str
) -> None:
    _, subject = linked_person(admin_api, county, "case_worker")
    links = admin_api.get(f"/admin/v1/tenants/{county}/identity-provider/links", params={"limit": 200}).json()["items"]
    link_id = next(link["id"] for link in links if link["subject"] == subject)
    assert admin_api.delete(f"/admin/v1/tenants/{county}/identity-provider/links/{link_id}").status_code == 204
    provider.subject = subject
    assert browser.open_sign_in(tenant=county).status_code == 403


def test_a_return_from_the_directory_works_once_and_only_in_the_browser_that_left(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str, gateway_url: str
) -> None:
    _, provider.subject = linked_person(admin_api, county, "case_worker")
    browser.http.follow_redirects = False
    to_provider = browser.open_sign_in(tenant=county)
    assert to_provider.status_code == 302
    back = browser.http.get(to_provider.headers["location"])
    callback = back.headers["location"]
    assert callback.startswith(f"{gateway_url}/oauth/external/callback/{county}?")

    # Planted in someone else's browser (login CSRF): refused, and the right browser still can.
    with httpx.Client() as stranger:
        planted = stranger.get(callback)
    assert planted.status_code == 400 and "another browser" in planted.text

    finished = browser.http.get(callback)
    assert finished.status_code == 302
    assert finished.headers["location"].startswith(browser.redirect_uri)
    replayed = browser.http.get(callback)
    assert replayed.status_code == 400 and "completed already" in replayed.text


def test_a_county_without_a_directory_shows_the_password_form(browser: Browser) -> None:
    page = browser.open_sign_in(tenant="ke-mombasa")
    assert page.status_code == 400 and not page.history
    assert "username and password" in page.text


def test_a_directory_that_names_people_by_email_must_have_verified_it(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider
) -> None:
    tenant = new_tenant(admin_api)
    assert configure(admin_api, tenant, provider, subject_claim="email").json()["scopes"] == ["openid", "email"]
    person_id, _, _ = new_person(admin_api, tenant, "case_worker")
    provider.subject = f"amina-{uuid.uuid4().hex[:6]}"
    email = f"{provider.subject}@county.example"
    admin_api.post(
        f"/admin/v1/tenants/{tenant}/identity-provider/links", json={"subject": email.upper(), "person_id": person_id}
    )

    provider.claims = {"email_verified": False}
    unverified = browser.open_sign_in(tenant=tenant)
    assert unverified.status_code == 403 and "verified" in unverified.text

    provider.claims = {}
    landed = browser.open_sign_in(tenant=tenant)
    assert landed.status_code == 200, landed.text
    assert str(landed.url).startswith(browser.redirect_uri)
    assert urlsplit(str(landed.url)).query


def test_a_return_naming_another_issuer_is_refused_before_the_code_is_redeemed(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str
) -> None:
    """RFC 9207 mix-up defence: a response whose `iss` is not the directory the person left for is refused."""
    _, provider.subject = linked_person(admin_api, county, "case_worker")
    browser.http.follow_redirects = False

    def returned(issuer: str) -> httpx.Response:
        back = browser.http.get(browser.open_sign_in(tenant=county).headers["location"])
        return browser.http.get(f"{back.headers['location']}&iss={quote(issuer, safe='')}")

    mixed_up = returned("https://attacker.example")
    assert mixed_up.status_code == 401 and "another directory" in mixed_up.text
    assert provider.token_requests == []
    named = returned(provider.issuer)
    assert named.status_code == 302 and named.headers["location"].startswith(browser.redirect_uri)


def test_a_directory_that_says_it_names_itself_must_name_itself_in_every_answer(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider
) -> None:
    """RFC 9207 §2.4: with `authorization_response_iss_parameter_supported`, an answer without `iss` is refused."""
    provider.advertises_iss = True
    tenant = new_tenant(admin_api)
    configured = configure(admin_api, tenant, provider)
    assert configured.json()["authorization_response_iss_parameter_supported"] is True
    _, provider.subject = linked_person(admin_api, tenant, "case_worker")

    unnamed = browser.open_sign_in(tenant=tenant)
    assert unnamed.status_code == 401 and "did not say which directory" in unnamed.text
    assert provider.token_requests == []  # the code went nowhere

    provider.sends_iss = True
    named = browser.open_sign_in(tenant=tenant)
    assert named.status_code == 200 and str(named.url).startswith(browser.redirect_uri), named.text


def test_an_answer_brought_to_another_directorys_callback_is_refused(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str, gateway_url: str
) -> None:
    """One callback per directory: a code from one county's sign-in cannot be played at another's callback."""
    _, provider.subject = linked_person(admin_api, county, "case_worker")
    other = new_tenant(admin_api)
    assert configure(admin_api, other, provider).status_code == 200
    browser.http.follow_redirects = False
    callback = browser.http.get(browser.open_sign_in(tenant=county).headers["location"]).headers["location"]
    elsewhere = callback.replace(f"/callback/{county}?", f"/callback/{other}?")
    assert elsewhere != callback

    refused = browser.http.get(elsewhere)
    assert refused.status_code == 401 and "another directory" in refused.text
    assert provider.token_requests == []


def test_a_directory_sign_in_to_a_role_that_can_reidentify_people_needs_the_directorys_second_factor(
    browser: Browser, admin_api: httpx.Client, provider: StandInProvider, county: str
) -> None:
    _, provider.subject = linked_person(admin_api, county, "intake_officer")
    provider.claims = {"amr": ["pwd"]}
    refused = browser.open_sign_in(tenant=county)
    assert refused.status_code == 403 and "second factor" in refused.text

    provider.claims = {"amr": ["pwd", "mfa"]}
    landed = browser.open_sign_in(tenant=county)
    assert landed.status_code == 200 and str(landed.url).startswith(browser.redirect_uri), landed.text

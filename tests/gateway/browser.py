"""What a person's browser and a single-page app do in a sign-in, for the gateway's tests."""

from __future__ import annotations

import json
import secrets
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.types import Receive, Scope, Send

from harambee_common.auth import KeyCache, TokenVerifier
from tests.gateway.issuer import AUDIENCE, ISSUER


async def spa_callback(scope: Scope, receive: Receive, send: Send) -> None:
    """The app's redirect target: answers with the query it was given, as JSON."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = json.dumps({k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class Inputs(HTMLParser):
    """The named inputs of a page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            named = dict(attrs)
            if named.get("name"):
                self.fields[str(named["name"])] = named.get("value") or ""


def form_fields(page: str) -> dict[str, str]:
    parser = Inputs()
    parser.feed(page)
    return parser.fields


def new_person(admin: httpx.Client, tenant: str, role: str) -> tuple[str, str, str]:
    """A person with one role; returns id, username and password."""
    username, password = f"p{uuid.uuid4().hex[:10]}", secrets.token_urlsafe(16)
    person = admin.post("/admin/v1/people", json={"username": username, "password": password}).json()
    granted = admin.post(f"/admin/v1/people/{person['id']}/roles", json={"tenant": tenant, "role": role})
    assert granted.status_code == 201, granted.text
    return person["id"], username, password


def enrol_second_factor(admin: httpx.Client, person_id: str) -> str:
    """Sets up a person's second factor the only way there is: an enrolment the person (here, the test) uses."""
    issued = admin.post(f"/admin/v1/people/{person_id}/enrolments", json={"password": False})
    assert issued.status_code == 201, issued.text
    token = issued.json()["enrolment_url"].partition("#")[2]
    used = httpx.post(f"{admin.base_url}/enrolment", json={"token": token})
    assert used.status_code == 200, used.text
    return used.json()["second_factor"]["secret"]


class Browser:
    """What a person's browser and the app do: start the flow, fill in the form, follow redirects."""

    def __init__(self, gateway_url: str, client_id: str, redirect_uri: str, *, timeout: float = 10) -> None:
        self.gateway_url = gateway_url
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(12)
        self.http = httpx.Client(follow_redirects=True, timeout=timeout)

    def authorization_params(self, **overrides: str | None) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "referrals:read referrals:write cases:read",
            "state": self.state,
            "code_challenge": create_s256_code_challenge(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        return {k: v for k, v in params.items() if v is not None}

    def open_sign_in(self, **overrides: str | None) -> httpx.Response:
        return self.http.get(f"{self.gateway_url}/oauth/authorize", params=self.authorization_params(**overrides))

    def sign_in(self, username: str, password: str, otp: str = "") -> httpx.Response:
        page = self.open_sign_in()
        assert page.status_code == 200, page.text
        fields = form_fields(page.text)
        fields.update(username=username, password=password, otp=otp)
        return self.http.post(f"{self.gateway_url}/oauth/authorize", data=fields)

    def exchange(self, code: str, verifier: str | None = None, origin: str | None = None) -> httpx.Response:
        return self.http.post(
            f"{self.gateway_url}/oauth/token",
            headers={"Origin": origin} if origin else {},
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "client_id": self.client_id,
                "code_verifier": verifier or self.verifier,
            },
        )


def verifier_for(gateway_url: str, issuer: str = ISSUER) -> TokenVerifier:
    """Verifies tokens the way every service does: against the gateway's JWKS, over HTTP."""
    return TokenVerifier(keys=KeyCache(f"{gateway_url}/.well-known/jwks.json"), issuer=issuer, audience=AUDIENCE)

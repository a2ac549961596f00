"""Attacks on what anyone may call unauthenticated: floods of the OAuth endpoints, and races on sign-in.

A flood is limited per client address, per client id (of a request presenting a client secret) and per
username before any password hash, database write or audit event; refusals naming no registered client
are counted once a minute, not logged one by one. Concurrent sign-in attempts on one account each count
towards its lockout, and a one-time code is accepted once however many requests carry it at the same
moment. Every loop here is bounded and every request goes to 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from harambee_gateway.app import create_app
from harambee_gateway.console.config import SCOPES
from harambee_gateway.console.cookies import SESSION_COOKIE, SIGN_IN_COOKIE
from harambee_gateway.oauth_limits import USERNAME_KEY_PURPOSE, OAuthLimits
from harambee_gateway.ratelimit import RateLimiter
from harambee_gateway.secret_box import derive_key
from harambee_gateway.signin import MAX_FAILURES
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, enrol_second_factor, form_fields, new_person
from tests.gateway.conftest import KEY_ENCRYPTION_KEY, free_port, gateway_settings, serving
from tests.support.services import patched_env, rows

BURST = 5
CONCURRENT = 20
# Sign-in answers wait on argon2 hashes that a loaded machine slows down; the assertions count answers, not time.
SLOW_ANSWER_SECONDS = 120


@contextmanager
def limited_gateway(database: ComponentDatabase, signing_key_pem: bytes, limits: OAuthLimits) -> Iterator[str]:
    """A gateway of its own on the module's registry with these limits; stopping it publishes its counts."""
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    app = create_app(dataclasses.replace(settings, refusal_summary_interval_seconds=0.2))
    app.state.oauth_limits = limits
    with serving(app) as url:
        yield url


def slow(burst: int = BURST) -> RateLimiter:
    """A bucket that refills too slowly to matter within a test."""
    return RateLimiter(rate=0.001, burst=burst)


def junk_token_request(http: httpx.Client, client_id: str) -> httpx.Response:
    return http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "junk"))


def outbox(database: ComponentDatabase, event_type: str) -> list:
    return rows(database.owner, "SELECT data FROM outbox WHERE type = :t", t=event_type)


# --- floods of the token endpoint ----------------------------------------------------------------


def test_a_flood_of_junk_token_requests_is_limited_per_address_and_counted_not_logged(
    database: ComponentDatabase, signing_key_pem: bytes, demo: dict
) -> None:
    junk = f"junk-{uuid.uuid4().hex[:8]}"
    counted_before = sum(r.data["count"] for r in outbox(database, "token.refusals_counted"))
    limits = OAuthLimits(per_address=slow())
    with limited_gateway(database, signing_key_pem, limits) as url, httpx.Client(base_url=url) as http:
        answers = [junk_token_request(http, f"{junk}-{n}") for n in range(BURST * 4)]
    assert [a.status_code for a in answers] == [401] * BURST + [429] * (BURST * 3)
    limited = answers[-1]
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["cache-control"] == "no-store"
    assert limited.json()["status"] == 429 and limited.json()["error"] == "temporarily_unavailable"
    # Not one audit entry per junk request: the refusals the limit let through are one count.
    individual = [r for r in outbox(database, "token.refused") if (r.data["client_id"] or "").startswith(junk)]
    assert individual == []
    counted = outbox(database, "token.refusals_counted")
    assert sum(r.data["count"] for r in counted) - counted_before == BURST
    assert all(set(r.data) == {"minute", "count", "errors"} for r in counted)
    assert any(r.data["errors"].get("invalid_client") for r in counted)


def test_a_refusal_naming_a_registered_client_is_still_logged_on_its_own(
    database: ComponentDatabase, signing_key_pem: bytes, demo: dict
) -> None:
    partner = demo["mombasa-youth-cso-system"]

    def refused() -> int:
        return sum(r.data["client_id"] == partner["client_id"] for r in outbox(database, "token.refused"))

    before = refused()
    with limited_gateway(database, signing_key_pem, OAuthLimits()) as url, httpx.Client(base_url=url) as http:
        for _ in range(3):
            assert junk_token_request(http, partner["client_id"]).status_code == 401
    assert refused() - before == 3


def test_token_requests_naming_one_client_are_limited_whatever_their_address(
    database: ComponentDatabase, signing_key_pem: bytes, demo: dict
) -> None:
    partner = demo["mombasa-youth-cso-system"]
    admin = demo["platform-admin"]
    with limited_gateway(database, signing_key_pem, OAuthLimits(per_client=slow())) as url, \
            httpx.Client(base_url=url) as http:
        named = [junk_token_request(http, partner["client_id"]).status_code for _ in range(BURST + 2)]
        other = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(admin["client_id"], admin["client_secret"]))
    assert named == [401] * BURST + [429, 429]
    assert other.status_code == 200  # another client's bucket is its own


def test_floods_of_the_sign_in_page_and_the_directory_callback_are_limited(
    database: ComponentDatabase, signing_key_pem: bytes, app_client_id: str, callback_url: str
) -> None:
    with limited_gateway(database, signing_key_pem, OAuthLimits(per_address=slow())) as url:
        browser = Browser(url, app_client_id, callback_url)
        with browser.http:
            pages = [browser.open_sign_in().status_code for _ in range(BURST - 1)]
            posted = browser.http.post(f"{url}/oauth/authorize", data={"username": "x", "password": "y"})
            callback = browser.http.get(f"{url}/oauth/external/callback/ke-mombasa",
                                        params={"state": "junk", "code": "junk"})
            page = browser.open_sign_in()
    assert pages == [200] * (BURST - 1)
    assert posted.status_code == 400  # the last request the bucket allowed
    for limited in (callback, page):
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "Too many" in limited.text and limited.headers["x-frame-options"] == "DENY"


def test_sign_in_attempts_are_limited_per_username_known_or_not(
    database: ComponentDatabase, signing_key_pem: bytes, admin_api: httpx.Client, app_client_id: str,
    callback_url: str,
) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    unknown = "nobody-" + uuid.uuid4().hex[:8]
    with limited_gateway(database, signing_key_pem, OAuthLimits(per_username=slow(burst=3))) as url:
        browser = Browser(url, app_client_id, callback_url)
        with browser.http:
            tried = [browser.sign_in(username, "wrong").status_code for _ in range(3)]
            limited = browser.sign_in(username, password)
            strangers = [browser.sign_in(unknown, "wrong").status_code for _ in range(4)]
            other = browser.sign_in(f"nobody-{uuid.uuid4().hex[:8]}", "wrong")
    assert tried == [401, 401, 401]
    assert limited.status_code == 429 and not limited.history  # not even the right password gets through
    assert strangers == [401, 401, 401, 429]  # an unknown account is limited alike: existence is not told
    assert other.status_code == 401


# --- sign-ins through the console ----------------------------------------------------------------


@contextmanager
def console_gateway(database: ComponentDatabase, signing_key_pem: bytes, admin_api: httpx.Client,
                    limits: OAuthLimits) -> Iterator[str]:
    """A gateway with these limits whose console has a client registered for its own URL (as an operator does)."""
    url = f"http://127.0.0.1:{free_port()}"
    registered = admin_api.post("/admin/v1/clients", json={
        "name": f"console-{uuid.uuid4().hex[:6]}", "client_type": "public",
        "redirect_uris": [f"{url}/console/callback"], "allowed_scopes": list(SCOPES)})
    assert registered.status_code == 201, registered.text
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app, issuer=url)
    # CONSOLE_API_URL: were the code redeemed over HTTP, it would come from here, the gateway's own address.
    with patched_env({"CONSOLE_CLIENT_ID": registered.json()["client_id"], "CONSOLE_API_URL": url}):
        app = create_app(settings)
    app.state.oauth_limits = limits
    with serving(app, port=int(url.rpartition(":")[2])):
        yield url


def from_address(url: str, address: str) -> httpx.Client:
    """A browser on a loopback address of its own (127.0.0.0/8 is all loopback): the gateway sees that peer."""
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), follow_redirects=True,
                        timeout=SLOW_ANSWER_SECONDS)


def console_sign_in(url: str, address: str, username: str, password: str) -> tuple[int, str, bool]:
    """A person's browser signs in to the console through the gateway's form: where it lands, and with a session?"""
    with from_address(url, address) as http:
        page = http.get("/console/sign-in")
        assert page.status_code == 200 and page.url.path == "/oauth/authorize", page.text
        answer = http.post("/oauth/authorize", data={**form_fields(page.text), "username": username,
                                                     "password": password})
        return answer.status_code, answer.url.path, SESSION_COOKIE in http.cookies


def test_people_signing_in_through_the_console_at_once_are_limited_each_by_their_own_address(
    database: ComponentDatabase, signing_key_pem: bytes, admin_api: httpx.Client
) -> None:
    people = [new_person(admin_api, "ke-mombasa", "programme_manager") for _ in range(BURST * 2)]
    # Each sign-in spends three of its browser's BURST (the form, the credentials, the code's redemption).
    with console_gateway(database, signing_key_pem, admin_api, OAuthLimits(per_address=slow())) as url:
        # One caller hammers the console's callback with forged codes (and claims other addresses as it goes).
        with from_address(url, "127.0.0.200") as abuser:
            started = abuser.get("/console/sign-in", follow_redirects=False)
            state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
            pending = started.cookies[SIGN_IN_COOKIE]
            forged = []
            for n in range(BURST + 3):
                abuser.cookies.clear()  # a refusal clears the pending sign-in: the abuser sends it again
                forged.append(abuser.get("/console/callback", params={"code": f"forged-{n}", "state": state},
                                         headers={"Cookie": f"{SIGN_IN_COOKIE}={pending}",
                                                  "X-Forwarded-For": f"127.0.0.{n + 1}"}))
        # Then, in a burst, twice as many people as one shared address's bucket would have redeemed codes for.
        def sign_in(n: int) -> tuple[int, str, bool]:
            _, username, password = people[n]
            return console_sign_in(url, f"127.0.0.{10 + n}", username, password)

        with ThreadPoolExecutor(max_workers=4) as pool:
            landed = list(pool.map(sign_in, range(len(people))))
    assert [a.status_code for a in forged] == [400] * BURST + [429] * 3
    assert int(forged[-1].headers["retry-after"]) >= 1 and "Too many sign-in attempts" in forged[-1].text
    assert landed == [(200, "/console/", True)] * len(people)


def test_people_signing_in_through_the_console_share_no_bucket_of_its_client_id(
    database: ComponentDatabase, signing_key_pem: bytes, admin_api: httpx.Client
) -> None:
    people = [new_person(admin_api, "ke-mombasa", "programme_manager") for _ in range(BURST * 2)]
    # Every kind of bucket on: were the console's client id to have one, everyone signing in would share it.
    limits = OAuthLimits(per_address=slow(), per_client=slow(), per_username=slow())
    with console_gateway(database, signing_key_pem, admin_api, limits) as url:
        # One caller spends its address's whole bucket on junk codes for the console's client id.
        with from_address(url, "127.0.0.200") as abuser:
            started = abuser.get("/console/sign-in", follow_redirects=False)
            console = parse_qs(urlsplit(started.headers["location"]).query)["client_id"][0]
            junk = [abuser.post("/oauth/token", data={
                "grant_type": "authorization_code", "client_id": console, "code": f"junk-{n}",
                "redirect_uri": f"{url}/console/callback", "code_verifier": "v" * 43}) for n in range(BURST + 1)]

        def sign_in(n: int) -> tuple[int, str, bool]:
            _, username, password = people[n]
            return console_sign_in(url, f"127.0.0.{10 + n}", username, password)

        with ThreadPoolExecutor(max_workers=4) as pool:
            landed = list(pool.map(sign_in, range(len(people))))
    assert [a.status_code for a in junk] == [400] * BURST + [429]
    assert landed == [(200, "/console/", True)] * len(people)


# --- races and answers on sign-in ----------------------------------------------------------------


def test_concurrent_wrong_passwords_each_count_towards_the_lockout(
    gateway_url: str, admin_api: httpx.Client, app_client_id: str, callback_url: str
) -> None:
    _, username, password = new_person(admin_api, "ke-mombasa", "case_worker")
    browsers = [Browser(gateway_url, app_client_id, callback_url, timeout=SLOW_ANSWER_SECONDS)
                for _ in range(CONCURRENT)]
    try:
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            statuses = list(pool.map(lambda b: b.sign_in(username, "wrong password").status_code, browsers))
        assert statuses == [401] * CONCURRENT
        # CONCURRENT >= MAX_FAILURES wrong guesses at once: the account is locked, the right password refused.
        assert CONCURRENT >= MAX_FAILURES
        assert browsers[0].sign_in(username, password).status_code == 401
    finally:
        for browser in browsers:
            browser.http.close()


def test_a_one_time_code_is_accepted_once_under_concurrency(
    gateway_url: str, admin_api: httpx.Client, app_client_id: str, callback_url: str
) -> None:
    tenant = f"ke-race-{uuid.uuid4().hex[:6]}"
    admin_api.post("/admin/v1/tenants", json={"slug": tenant, "name": "T", "kind": "county", "require_totp": True})
    person_id, username, password = new_person(admin_api, tenant, "case_worker")
    secret = enrol_second_factor(admin_api, person_id)
    browsers = [Browser(gateway_url, app_client_id, callback_url, timeout=SLOW_ANSWER_SECONDS) for _ in range(10)]
    try:
        pages = [b.open_sign_in() for b in browsers]  # the form first, so the posts race each other only
        code = pyotp.TOTP(secret).now()

        def post(pair: tuple[Browser, httpx.Response]) -> int:
            browser, page = pair
            fields = {**form_fields(page.text), "username": username, "password": password, "otp": code}
            return browser.http.post(f"{gateway_url}/oauth/authorize", data=fields).status_code

        with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
            statuses = list(pool.map(post, zip(browsers, pages, strict=True)))
    finally:
        for browser in browsers:
            browser.http.close()
    assert sorted(statuses) == [200] + [401] * (len(browsers) - 1)


def test_locked_disabled_and_unknown_accounts_and_wrong_passwords_are_answered_alike(
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase
) -> None:
    _, locked, locked_password = new_person(admin_api, "ke-mombasa", "case_worker")
    for _ in range(MAX_FAILURES):
        browser.sign_in(locked, "wrong password")
    disabled_id, disabled, disabled_password = new_person(admin_api, "ke-mombasa", "case_worker")
    rows(database.owner, "UPDATE people SET disabled_at = now() WHERE id = :p RETURNING id", p=disabled_id)
    _, known, _ = new_person(admin_api, "ke-mombasa", "case_worker")
    answers = {
        "locked": browser.sign_in(locked, locked_password),
        "disabled": browser.sign_in(disabled, disabled_password),
        "unknown": browser.sign_in("nobody-" + uuid.uuid4().hex[:8], "whatever"),
        "wrong password": browser.sign_in(known, "wrong password"),
    }
    assert {(a.status_code, a.text) for a in answers.values()} == {(401, answers["unknown"].text)}


def test_failed_sign_ins_name_the_account_by_a_keyed_hash_only(
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase, signing_key_pem: bytes
) -> None:
    _, username, _ = new_person(admin_api, "ke-mombasa", "case_worker")
    browser.sign_in(username, "wrong password")
    browser.sign_in(f"  {username.upper()} ", "wrong again")
    key = hmac.new(derive_key(KEY_ENCRYPTION_KEY, info=USERNAME_KEY_PURPOSE), username.encode(), hashlib.sha256)
    failed = rows(database.owner, "SELECT data FROM outbox WHERE type = 'sign_in.failed' "
                  "AND data->>'username_key' = :k", k=key.hexdigest())
    assert len(failed) == 2  # the same account, however it was typed
    assert all(username not in str(r.data) for r in outbox(database, "sign_in.failed"))

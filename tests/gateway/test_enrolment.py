"""Second factors for those who can re-identify people or administer the platform, and resets that only the
person can use: a one-time enrolment link, never a password or secret handed to an administrator."""

from __future__ import annotations

import httpx
import pyotp

from harambee_common.permissions import REIDENTIFYING_ROLES, SECOND_FACTOR_ROLES, Role
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, enrol_second_factor, new_person
from tests.support.services import rows

NEW_PASSWORD = "a passphrase only I know"


def _issue(admin_api: httpx.Client, person_id: str, **body: bool) -> str:
    issued = admin_api.post(f"/admin/v1/people/{person_id}/enrolments", json=body)
    assert issued.status_code == 201, issued.text
    assert not {"secret", "password_value", "initial_password"} & set(issued.json())
    return issued.json()["enrolment_url"].partition("#")[2]


def _use(gateway_url: str, token: str, **body: str) -> httpx.Response:
    return httpx.post(f"{gateway_url}/enrolment", json={"token": token, **body})


def test_the_roles_that_can_reidentify_people_are_the_ones_that_need_a_second_factor() -> None:
    assert Role.intake_officer in REIDENTIFYING_ROLES
    assert REIDENTIFYING_ROLES | {Role.platform_admin} == SECOND_FACTOR_ROLES


def test_a_person_who_can_reidentify_people_signs_in_only_with_a_second_factor(
    browser: Browser, admin_api: httpx.Client
) -> None:
    person_id, username, password = new_person(admin_api, "ke-mombasa", "intake_officer")
    refused = browser.sign_in(username, password)
    assert refused.status_code == 401 and "second factor" in refused.text and "enrolment" in refused.text

    secret = enrol_second_factor(admin_api, person_id)
    asked = browser.sign_in(username, password)
    assert asked.status_code == 401 and "one-time code" in asked.text
    landed = browser.sign_in(username, password, otp=pyotp.TOTP(secret).now())
    assert landed.status_code == 200, landed.text


def test_a_person_administering_the_platform_signs_in_only_with_a_second_factor(
    browser: Browser, admin_api: httpx.Client
) -> None:
    _, username, password = new_person(admin_api, "platform", "platform_admin")
    refused = browser.sign_in(username, password)
    assert refused.status_code == 401 and "second factor" in refused.text


def test_the_admin_api_hands_nobody_a_password_or_a_second_factor(admin_api: httpx.Client) -> None:
    person_id, _, _ = new_person(admin_api, "ke-mombasa", "case_worker")
    for reset in ("password", "second-factor"):
        answered = admin_api.post(f"/admin/v1/people/{person_id}/{reset}")
        assert answered.status_code == 404, answered.text
        assert answered.headers["content-type"] == "application/problem+json"


def test_a_reset_is_a_link_the_person_uses_once_and_until_then_nothing_changes(
    browser: Browser, admin_api: httpx.Client, gateway_url: str, database: ComponentDatabase
) -> None:
    person_id, username, password = new_person(admin_api, "ke-mombasa", "intake_officer")
    token = _issue(admin_api, person_id)
    # Issued, not used: nothing about the person has changed yet.
    assert browser.sign_in(username, password).status_code == 401  # still no factor
    (stored,) = rows(database.owner, "SELECT token_hash FROM enrolments WHERE person_id = :p", p=person_id)
    assert token not in stored.token_hash

    missing = _use(gateway_url, token)
    assert missing.status_code == 422, missing.text  # a password is asked for, and the link is not spent
    used = _use(gateway_url, token, password=NEW_PASSWORD)
    assert used.status_code == 200, used.text
    assert used.json()["username"] == username
    secret = used.json()["second_factor"]["secret"]

    assert _use(gateway_url, token, password=NEW_PASSWORD).status_code == 404  # once only
    assert browser.sign_in(username, password, otp=pyotp.TOTP(secret).now()).status_code == 401  # old password
    landed = browser.sign_in(username, NEW_PASSWORD, otp=pyotp.TOTP(secret).now())
    assert landed.status_code == 200, landed.text

    events = rows(database.owner, "SELECT type, data FROM outbox WHERE subject = :p AND type LIKE 'person.enrolment%' "
                  "ORDER BY seq", p=person_id)
    assert [e.type for e in events] == ["person.enrolment_issued", "person.enrolment_completed"]
    assert events[1].data["actor"] == person_id  # used by the person, recorded as them
    assert all(token not in str(e.data) and secret not in str(e.data) for e in events)


def test_a_newer_enrolment_replaces_an_older_one_and_an_expired_one_is_refused(
    admin_api: httpx.Client, gateway_url: str, database: ComponentDatabase
) -> None:
    person_id, _, _ = new_person(admin_api, "ke-mombasa", "case_worker")
    older = _issue(admin_api, person_id, password=False)
    newer = _issue(admin_api, person_id, password=False)
    assert _use(gateway_url, older).status_code == 404
    rows(database.owner, "UPDATE enrolments SET expires_at = now() - interval '1 second' "
         "WHERE person_id = :p AND used_at IS NULL AND superseded_at IS NULL RETURNING id", p=person_id)
    expired = _use(gateway_url, newer)
    assert expired.status_code == 404 and expired.headers["content-type"] == "application/problem+json"
    assert _use(gateway_url, "not-a-token-we-ever-issued-000").status_code == 404

"""People's TOTP secrets are kept sealed in the registry, bound to their person, and still sign people in.

Rows are read and altered as the owner role, as someone holding a database dump (or write access to
it) would; the gateway runs on uvicorn and a browser signs in through it.
"""

from __future__ import annotations

import base64
import threading

import httpx
import pyotp
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from harambee_common.db import create_db_engine
from harambee_gateway import totp_secrets
from harambee_gateway.app import create_app
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.browser import Browser, enrol_second_factor, new_person
from tests.gateway.conftest import KEY_ENCRYPTION_KEY, gateway_settings
from tests.support.services import rows

TENANT = "ke-mombasa"


def _enrol(admin_api: httpx.Client, person_id: str) -> str:
    return enrol_second_factor(admin_api, person_id)


def _stored(database: ComponentDatabase, person_id: str) -> tuple[str | None, bytes | None]:
    (row,) = rows(
        database.owner, "SELECT totp_secret, encrypted_totp_secret FROM people WHERE id = :p", p=person_id
    )
    return row.totp_secret, None if row.encrypted_totp_secret is None else bytes(row.encrypted_totp_secret)


def _store_in_clear(database: ComponentDatabase, person_id: str, secret: str) -> None:
    """The row as a version before sealing left it."""
    rows(
        database.owner,
        "UPDATE people SET totp_secret = :s, encrypted_totp_secret = NULL, totp_last_step = NULL "
        "WHERE id = :p RETURNING id",
        s=secret,
        p=person_id,
    )


def _restart_gateway(database: ComponentDatabase, signing_key_pem: bytes) -> None:
    """Starts (and stops) another gateway replica on the registry, as a deployment would."""
    with TestClient(create_app(gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app))):
        pass


def test_an_enrolled_secret_is_stored_sealed_and_still_signs_in(
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase
) -> None:
    person_id, username, password = new_person(admin_api, TENANT, "case_worker")
    secret = _enrol(admin_api, person_id)

    clear, sealed = _stored(database, person_id)
    assert clear is None
    assert sealed is not None
    assert secret.encode() not in sealed and base64.b32decode(secret) not in sealed

    code = pyotp.TOTP(secret).now()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert browser.sign_in(username, password, otp=wrong).status_code == 401
    landed = browser.sign_in(username, password, otp=code)
    assert landed.status_code == 200, landed.text
    assert browser.exchange(landed.json()["code"]).status_code == 200
    replayed = browser.sign_in(username, password, otp=code)
    assert replayed.status_code == 401 and "used already" in replayed.text


def test_a_secret_sealed_for_one_person_does_not_open_in_anothers_row(
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase
) -> None:
    owner_id, _, _ = new_person(admin_api, TENANT, "case_worker")
    other_id, other_username, other_password = new_person(admin_api, TENANT, "case_worker")
    owners_secret = _enrol(admin_api, owner_id)
    _enrol(admin_api, other_id)
    rows(
        database.owner,
        "UPDATE people SET encrypted_totp_secret = (SELECT encrypted_totp_secret FROM people WHERE id = :a) "
        "WHERE id = :b RETURNING id",
        a=owner_id,
        b=other_id,
    )

    refused = browser.sign_in(other_username, other_password, otp=pyotp.TOTP(owners_secret).now())
    assert refused.status_code == 401, refused.text
    assert "second factor cannot be checked" in refused.text
    assert "ask an administrator" in refused.text


def test_a_clear_secret_left_by_an_older_version_is_sealed_at_startup_and_still_signs_in(
    browser: Browser, admin_api: httpx.Client, database: ComponentDatabase, signing_key_pem: bytes
) -> None:
    before_id, before_username, before_password = new_person(admin_api, TENANT, "case_worker")
    after_id, after_username, after_password = new_person(admin_api, TENANT, "case_worker")
    before_secret, after_secret = pyotp.random_base32(), pyotp.random_base32()
    _store_in_clear(database, before_id, before_secret)
    _store_in_clear(database, after_id, after_secret)

    # Not yet sealed: the running gateway reads the clear secret, and asks for a code from it.
    asked = browser.sign_in(before_username, before_password)
    assert asked.status_code == 401 and "one-time code" in asked.text
    landed = browser.sign_in(before_username, before_password, otp=pyotp.TOTP(before_secret).now())
    assert landed.status_code == 200, landed.text

    _restart_gateway(database, signing_key_pem)
    box = totp_secrets.secret_box(KEY_ENCRYPTION_KEY)
    for person_id, secret in ((before_id, before_secret), (after_id, after_secret)):
        clear, sealed = _stored(database, person_id)
        assert clear is None
        assert sealed is not None and secret.encode() not in sealed
        assert box.open(sealed, bound_to=person_id) == secret

    # Starting again seals nothing more and changes nothing.
    sealed_once = _stored(database, after_id)
    _restart_gateway(database, signing_key_pem)
    assert _stored(database, after_id) == sealed_once

    landed = browser.sign_in(after_username, after_password, otp=pyotp.TOTP(after_secret).now())
    assert landed.status_code == 200, landed.text


def test_replicas_starting_together_seal_each_clear_secret_once(
    admin_api: httpx.Client, database: ComponentDatabase, signing_key_pem: bytes
) -> None:
    secrets = {new_person(admin_api, TENANT, "case_worker")[0]: pyotp.random_base32() for _ in range(12)}
    for person_id, secret in secrets.items():
        _store_in_clear(database, person_id, secret)
    (pending,) = rows(database.owner, "SELECT count(*) AS n FROM people WHERE totp_secret IS NOT NULL")

    box = totp_secrets.secret_box(KEY_ENCRYPTION_KEY)
    engines = [create_db_engine(database.app, pool_size=1) for _ in range(4)]
    counts: list[int] = []
    start = threading.Barrier(len(engines))

    def replica(engine: sa.Engine) -> None:
        start.wait()
        counts.append(totp_secrets.seal_clear_secrets(sessions=sessionmaker(engine), box=box))

    threads = [threading.Thread(target=replica, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for engine in engines:
            engine.dispose()

    assert len(counts) == len(engines)
    assert sum(counts) == pending.n
    for person_id, secret in secrets.items():
        clear, sealed = _stored(database, person_id)
        assert clear is None
        assert sealed is not None and box.open(sealed, bound_to=person_id) == secret

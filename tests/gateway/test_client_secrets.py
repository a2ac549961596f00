"""How secrets are stored: a client's as a SHA-256 digest, a person's password as argon2id.

Client secrets stored before the digest were argon2id hashes: they still get their client a token,
and the first time one does, its hash becomes the digest (no secret is reissued).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from harambee_gateway import clients
from harambee_gateway.client_secrets import hash_client_secret
from harambee_gateway.passwords import hash_password, verify_password
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import token_for
from tests.support.services import rows


def new_client(gateway: TestClient, admin: dict) -> dict:
    """A fresh partner client through the admin API, with its secret."""
    body = {"name": f"partner-system-{uuid.uuid4().hex[:8]}", "organisation": "mombasa-youth-cso",
            "grants": [{"tenant": "ke-mombasa", "roles": ["partner"], "scopes": ["referrals:write"]}]}
    response = gateway.post("/admin/v1/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def stored_hashes(database: ComponentDatabase, client_id: str) -> tuple[str, str | None]:
    (row,) = rows(database.owner, "SELECT secret_hash, previous_secret_hash FROM clients WHERE client_id = :c",
                  c=client_id)
    return row.secret_hash, row.previous_secret_hash


def store_as_argon2(database: ComponentDatabase, client_id: str, secret: str, *, column: str = "secret_hash") -> str:
    """Stores the secret's hash as the gateway did before the digest (argon2id); returns that hash."""
    legacy = hash_password(password=secret)
    rows(database.owner, f"UPDATE clients SET {column} = :h WHERE client_id = :c RETURNING client_id",
         h=legacy, c=client_id)
    return legacy


def assert_invalid_client(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.fixture
def client(gateway: TestClient, admin: dict) -> dict:
    return new_client(gateway, admin)


def test_a_new_client_secret_and_a_rotated_one_are_stored_as_their_sha256_digests(
    gateway: TestClient, admin: dict, database: ComponentDatabase, client: dict
) -> None:
    digest = hash_client_secret(secret=client["client_secret"])
    assert digest.startswith("$sha256$") and len(digest) == len("$sha256$") + 64
    assert stored_hashes(database, client["client_id"]) == (digest, None)
    rotated = gateway.post(f"/admin/v1/clients/{client['client_id']}/secret/rotate", headers=admin).json()
    assert stored_hashes(database, client["client_id"]) == (hash_client_secret(secret=rotated["client_secret"]),
                                                             digest)


def test_a_secret_stored_as_argon2_still_gets_a_token_and_is_then_stored_as_its_digest(
    gateway: TestClient, database: ComponentDatabase, client: dict
) -> None:
    client_id, secret = client["client_id"], client["client_secret"]
    legacy = store_as_argon2(database, client_id, secret)
    assert_invalid_client(token_for(gateway, client_id, secret + "x"))
    assert stored_hashes(database, client_id) == (legacy, None)  # a wrong secret upgrades nothing
    assert token_for(gateway, client_id, secret).status_code == 200
    assert stored_hashes(database, client_id) == (hash_client_secret(secret=secret), None)
    assert token_for(gateway, client_id, secret).status_code == 200
    assert_invalid_client(token_for(gateway, client_id, secret + "x"))


def test_a_previous_secret_stored_as_argon2_works_during_a_rotation_and_is_upgraded_alone(
    gateway: TestClient, admin: dict, database: ComponentDatabase, client: dict
) -> None:
    client_id, old = client["client_id"], client["client_secret"]
    store_as_argon2(database, client_id, old)
    rotated = gateway.post(f"/admin/v1/clients/{client_id}/secret/rotate", headers=admin)
    new = rotated.json()["client_secret"]
    assert stored_hashes(database, client_id)[1].startswith("$argon2id$")
    assert token_for(gateway, client_id, old).status_code == 200
    assert stored_hashes(database, client_id) == (hash_client_secret(secret=new), hash_client_secret(secret=old))
    assert token_for(gateway, client_id, new).status_code == 200


def test_an_upgrade_leaves_a_hash_that_changed_meanwhile_as_it_is(database: ComponentDatabase, client: dict) -> None:
    client_id, secret = client["client_id"], client["client_secret"]
    legacy = hash_password(password=secret)  # verified, but a rotation has replaced it since
    current = stored_hashes(database, client_id)
    engine = sa.create_engine(database.app)
    try:
        with Session(engine) as db_session, db_session.begin():
            clients.upgrade_secret_hash(db_session=db_session, client_id=client_id, legacy_hash=legacy, secret=secret)
    finally:
        engine.dispose()
    assert stored_hashes(database, client_id) == current


def test_an_unknown_client_id_is_refused_as_a_wrong_secret_is(gateway: TestClient, client: dict) -> None:
    assert_invalid_client(token_for(gateway, f"hc_{uuid.uuid4().hex}", client["client_secret"]))
    assert_invalid_client(token_for(gateway, client["client_id"], "wrong"))


def test_people_passwords_are_still_stored_as_argon2id(
    gateway: TestClient, admin: dict, database: ComponentDatabase, demo: dict
) -> None:
    password = "correct horse battery " + uuid.uuid4().hex[:6]
    created = gateway.post("/admin/v1/people", headers=admin, json={
        "username": f"p-{uuid.uuid4().hex[:8]}", "display_name": "P", "password": password})
    assert created.status_code == 201, created.text
    (person,) = rows(database.owner, "SELECT password_hash FROM people WHERE id = :p", p=created.json()["id"])
    assert person.password_hash.startswith("$argon2id$")
    assert verify_password(password_hash=person.password_hash, password=password)
    seeded = rows(database.owner, "SELECT password_hash FROM people")
    assert len(seeded) > 1 and all(row.password_hash.startswith("$argon2id$") for row in seeded)

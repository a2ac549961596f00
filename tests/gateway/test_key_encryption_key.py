"""Every sealed registry secret is under a random key-encryption key (KEK), not the signing key; it can be
moved to a new KEK; and the bootstrap signing key, once rotated away, never signs again.

Rows are read as the owner role, as someone holding a database dump would; the gateway is a fresh
one on its own registry for each test, since these tests change the key everything is sealed under.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from joserfc import jws

from harambee_gateway import identity_providers, signing, totp_secrets
from harambee_gateway.__main__ import main
from harambee_gateway.app import create_app
from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox, legacy_root
from harambee_gateway.signing import KeyRing, NoSigningKey, SigningKey
from harambee_stack.postgres import ComponentDatabase
from tests.gateway.conftest import (
    KEY_ENCRYPTION_KEY,
    bearer,
    gateway_settings,
    migrated_database,
    seed_demo,
    token_for,
    write_key_encryption_key,
)
from tests.support.services import patched_env, rows

TENANT = "ke-mombasa"
KINDS = {
    "signing key": (signing.secret_box, "SELECT kid AS bound, encrypted_private_key AS sealed FROM signing_keys"),
    "TOTP secret": (totp_secrets.secret_box,
                    "SELECT id::text AS bound, encrypted_totp_secret AS sealed FROM people "
                    "WHERE encrypted_totp_secret IS NOT NULL"),
    "directory secret": (identity_providers.secret_box,
                         "SELECT tenant AS bound, encrypted_client_secret AS sealed FROM identity_providers"),
}


def _sealed(database: ComponentDatabase) -> dict[str, list[tuple[str, bytes]]]:
    return {kind: [(r.bound, bytes(r.sealed)) for r in rows(database.owner, query)]
            for kind, (_, query) in KINDS.items()}


def _opens(box: SecretBox, sealed: bytes, bound_to: str) -> bool:
    try:
        box.open(sealed, bound_to=bound_to)
    except SealedSecretUnreadable:
        return False
    return True


def _registry(postgres: Any, tmp_path: Path) -> tuple[ComponentDatabase, dict]:
    database = migrated_database(postgres)
    return database, seed_demo(database, tmp_path / "demo.json")


def _seal_one_of_each(gateway: TestClient, demo: dict, database: ComponentDatabase) -> None:
    """A rotated signing key, a person's TOTP secret and a county directory's client secret."""
    gateway.headers.update(bearer(gateway, demo["platform-admin"]))
    assert gateway.post("/admin/v1/signing-keys").status_code == 201
    person = gateway.post("/admin/v1/people", json={"username": f"p{uuid.uuid4().hex[:8]}"}).json()
    rows(database.owner, "UPDATE people SET encrypted_totp_secret = :s WHERE id = :p RETURNING id",
         s=totp_secrets.secret_box(KEY_ENCRYPTION_KEY).seal(pyotp.random_base32(), bound_to=person["id"]),
         p=person["id"])
    configured = gateway.put(f"/admin/v1/tenants/{TENANT}/identity-provider", json={
        "issuer": "https://idp.example", "client_id": "harambee", "client_secret": "s3cret",
        "authorization_endpoint": "https://idp.example/authorize", "token_endpoint": "https://idp.example/token",
        "jwks_uri": "https://idp.example/jwks", "authorization_response_iss_parameter_supported": True})
    assert configured.status_code == 200, configured.text


def test_every_sealed_secret_is_under_the_kek_and_the_signing_key_opens_none(
    postgres: Any, signing_key_pem: bytes, tmp_path: Path
) -> None:
    database, demo = _registry(postgres, tmp_path)
    with TestClient(create_app(gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app))) as gw:
        _seal_one_of_each(gw, demo, database)

    for kind, sealed in _sealed(database).items():
        make_box = KINDS[kind][0]
        assert sealed, kind
        for bound, value in sealed:
            assert _opens(make_box(KEY_ENCRYPTION_KEY), value, bound), kind
            # What older versions sealed under: the token-signing key is no root of secrets any more.
            assert not _opens(make_box(legacy_root(signing_key_pem)), value, bound), kind


def test_reseal_moves_every_secret_to_a_new_kek_and_the_gateway_runs_on_it(
    postgres: Any, signing_key_pem: bytes, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, demo = _registry(postgres, tmp_path)
    with TestClient(create_app(gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app))) as gw:
        _seal_one_of_each(gw, demo, database)
    (rotated,) = [r.kid for r in rows(database.owner, "SELECT kid FROM signing_keys")]
    new_kek = os.urandom(32)
    env = {"DATABASE_URL": database.app, "GATEWAY_SIGNING_KEY_FILE": str(key_file),
           "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(write_key_encryption_key(tmp_path / "new-kek", new_kek))}
    old_file = write_key_encryption_key(tmp_path / "old-kek")

    with patched_env(env):
        main(["reseal-secrets", "--previous-kek-file", str(old_file)])
        assert "1 signing key(s), 1 TOTP secret(s), 1 directory secret(s); 0 already" in capsys.readouterr().out
        main(["reseal-secrets", "--previous-kek-file", str(old_file)])  # interrupted and run again: no harm
        assert "0 signing key(s), 0 TOTP secret(s), 0 directory secret(s); 3 already" in capsys.readouterr().out

    for kind, sealed in _sealed(database).items():
        make_box = KINDS[kind][0]
        for bound, value in sealed:
            assert _opens(make_box(new_kek), value, bound), kind
            assert not _opens(make_box(KEY_ENCRYPTION_KEY), value, bound), kind
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app, key_encryption_key=new_kek)
    with TestClient(create_app(settings)) as gateway:
        issued = token_for(gateway, demo["platform-admin"]["client_id"], demo["platform-admin"]["client_secret"])
        assert issued.status_code == 200, issued.text
        # The rotated key (waiting out its lead time) opened under the new KEK: it is published.
        assert rotated in {k["kid"] for k in gateway.get("/.well-known/jwks.json").json()["keys"]}


def test_during_a_reseal_a_gateway_given_the_old_kek_as_retired_still_reads_what_it_sealed(
    postgres: Any, signing_key_pem: bytes, tmp_path: Path
) -> None:
    database, demo = _registry(postgres, tmp_path)
    with TestClient(create_app(gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app))) as gw:
        _seal_one_of_each(gw, demo, database)
    (rotated,) = [r.kid for r in rows(database.owner, "SELECT kid FROM signing_keys")]
    new_kek = os.urandom(32)
    moving = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app, key_encryption_key=new_kek)

    def published(settings: Any) -> set[str]:
        with TestClient(create_app(settings)) as gateway:
            return {k["kid"] for k in gateway.get("/.well-known/jwks.json").json()["keys"]}

    assert rotated not in published(moving)  # the new KEK alone cannot open the rotated key yet
    assert rotated in published(replace(moving, retired_key_encryption_keys=(KEY_ENCRYPTION_KEY,)))
    box = totp_secrets.secret_box(new_kek, (KEY_ENCRYPTION_KEY,))
    ((person, sealed),) = _sealed(database)["TOTP secret"]
    assert _opens(box, sealed, person)
    assert not _opens(totp_secrets.secret_box(KEY_ENCRYPTION_KEY), box.seal("x", bound_to=person), person)


def test_reseal_upgrades_a_registry_an_older_version_sealed_under_the_signing_key(
    postgres: Any, signing_key_pem: bytes, key_file: Path, kek_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database, _ = _registry(postgres, tmp_path)
    person = rows(database.owner, "SELECT id::text AS id FROM people ORDER BY id LIMIT 1")[0].id
    secret = pyotp.random_base32()
    older = totp_secrets.secret_box(legacy_root(signing_key_pem)).seal(secret, bound_to=person)
    rows(database.owner, "UPDATE people SET encrypted_totp_secret = :s WHERE id = :p RETURNING id", s=older, p=person)

    with patched_env({"DATABASE_URL": database.app, "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(kek_file)}):
        main(["reseal-secrets", "--previous-signing-key-file", str(key_file)])
    assert "1 TOTP secret(s)" in capsys.readouterr().out
    (sealed,) = rows(database.owner, "SELECT encrypted_totp_secret AS s FROM people WHERE id = :p", p=person)
    assert totp_secrets.secret_box(KEY_ENCRYPTION_KEY).open(bytes(sealed.s), bound_to=person) == secret


def test_a_secret_neither_key_opens_stops_the_reseal_and_changes_nothing(
    postgres: Any, kek_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, _ = _registry(postgres, tmp_path)
    person = rows(database.owner, "SELECT id::text AS id FROM people ORDER BY id LIMIT 1")[0].id
    stranger = totp_secrets.secret_box(os.urandom(32)).seal(pyotp.random_base32(), bound_to=person)
    rows(database.owner, "UPDATE people SET encrypted_totp_secret = :s WHERE id = :p RETURNING id",
         s=stranger, p=person)
    before = _sealed(database)

    with patched_env({"DATABASE_URL": database.app, "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(kek_file)}), \
            pytest.raises(SystemExit, match="nothing re-sealed"):
        main(["reseal-secrets", "--previous-kek-file",
              str(write_key_encryption_key(tmp_path / "other", os.urandom(32)))])
    assert _sealed(database) == before


def test_the_bootstrap_key_never_signs_again_once_rotated_away(
    postgres: Any, signing_key_pem: bytes, key_file: Path, kek_file: Path, tmp_path: Path
) -> None:
    database, demo = _registry(postgres, tmp_path)
    admin = demo["platform-admin"]
    with patched_env({"DATABASE_URL": database.app, "GATEWAY_SIGNING_KEY_FILE": str(key_file),
                      "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(kek_file)}):
        main(["rotate-signing-key", "--lead-seconds", "0"])
    bootstrap = SigningKey(signing_key_pem).kid

    # A replica that cannot open the rotated key (another KEK) issues nothing rather than fall back.
    stranger = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app,
                                key_encryption_key=os.urandom(32))
    with TestClient(create_app(stranger)) as gateway:
        refused = token_for(gateway, admin["client_id"], admin["client_secret"])
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert gateway.get("/readyz").status_code == 503
        # Still published until its tokens have expired, so tokens it signed before still verify.
        assert bootstrap in {k["kid"] for k in gateway.get("/.well-known/jwks.json").json()["keys"]}

    with TestClient(create_app(gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app))) as gw:
        issued = token_for(gw, admin["client_id"], admin["client_secret"])
        assert issued.status_code == 200, issued.text
        assert jws.extract_compact(issued.json()["access_token"].encode()).protected["kid"] != bootstrap
        # A second rotation leaves the bootstrap key's retirement as it was.
        gw.headers.update(bearer(gw, admin))
        assert gw.post("/admin/v1/signing-keys").status_code == 201
    assert len(rows(database.owner, "SELECT kid FROM retired_signing_keys WHERE kid = :k", k=bootstrap)) == 1


def test_a_ring_that_has_not_read_the_registry_signs_nothing(signing_key_pem: bytes) -> None:
    ring = KeyRing(SigningKey(signing_key_pem), key_encryption_key=KEY_ENCRYPTION_KEY, token_ttl_seconds=900)
    with pytest.raises(NoSigningKey):
        ring.signing()


def test_the_gateway_will_not_start_without_a_key_encryption_key(
    monkeypatch: pytest.MonkeyPatch, key_file: Path, tmp_path: Path
) -> None:
    from harambee_gateway.config import GatewaySettings

    monkeypatch.setenv("GATEWAY_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.delenv("GATEWAY_KEY_ENCRYPTION_KEY_FILE", raising=False)
    with pytest.raises(RuntimeError, match="GATEWAY_KEY_ENCRYPTION_KEY_FILE is not set"):
        GatewaySettings.from_env()
    short = tmp_path / "short"
    short.write_text("c2hvcnQ=\n")
    monkeypatch.setenv("GATEWAY_KEY_ENCRYPTION_KEY_FILE", str(short))
    with pytest.raises(RuntimeError, match="32 random bytes"):
        GatewaySettings.from_env()

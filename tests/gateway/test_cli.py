"""The gateway's commands for a new deployment: the first administrator, the services' clients, key rotation."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harambee_common.components import SERVICES
from harambee_common.config import Settings
from harambee_gateway.__main__ import main
from harambee_gateway.app import create_app
from tests.gateway.conftest import gateway_settings, migrated_database
from tests.support.services import patched_env, rows


def test_a_new_deployment_gets_its_first_administrator_and_rotates_keys(
    postgres: Any, signing_key_pem: bytes, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = migrated_database(postgres)
    with patched_env({"DATABASE_URL": database.app, "GATEWAY_SIGNING_KEY_FILE": str(key_file)}):
        main(["create-admin-client", "--name", "first-admin"])
        admin = json.loads(capsys.readouterr().out)
        main(["rotate-signing-key", "--lead-seconds", "0"])
    assert "signs from" in capsys.readouterr().out
    (kid,) = [r.kid for r in rows(database.owner, "SELECT kid FROM signing_keys")]

    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with TestClient(create_app(settings)) as gateway:
        response = gateway.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(admin["client_id"], admin["client_secret"]),
        )
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "registry:admin"
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        assert gateway.get("/admin/v1/tenants", headers=headers).json()["items"][0]["slug"] == "platform"
        # The key made by the command signs (its lead was zero) and is in the JWKS.
        assert kid in {k["kid"] for k in gateway.get("/.well-known/jwks.json").json()["keys"]}
        keys = {k["kid"]: k["state"] for k in gateway.get("/admin/v1/signing-keys", headers=headers).json()}
        assert keys[kid] == "signing"


def test_each_service_gets_its_own_registry_client_in_its_own_directory_that_reads_the_registry(
    postgres: Any, signing_key_pem: bytes, key_file: Path, tmp_path: Path
) -> None:
    database = migrated_database(postgres)
    with patched_env({"DATABASE_URL": database.app}):
        main(["create-service-clients", "--out", str(tmp_path)])
    settings = gateway_settings(signing_key_pem=signing_key_pem, database_url=database.app)
    with TestClient(create_app(settings)) as gateway:
        for service in SERVICES:
            directory = tmp_path / service.name
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
            files = {p.name: p for p in directory.iterdir()}
            assert set(files) == {"registry-client-id", "registry-client-secret"}
            assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files.values())
            with patched_env({"REGISTRY_CLIENT_ID_FILE": str(files["registry-client-id"]),
                              "REGISTRY_CLIENT_SECRET_FILE": str(files["registry-client-secret"]),
                              "DATABASE_URL": "postgresql+psycopg://unused@127.0.0.1/none"}):
                service_settings = Settings.from_env(service.name)
            response = gateway.post("/oauth/token", data={"grant_type": "client_credentials"},
                                    auth=(service_settings.registry_client_id, service_settings.registry_client_secret))
            assert response.status_code == 200, response.text
            assert response.json()["scope"] == "registry:read"

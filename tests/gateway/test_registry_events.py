"""Registry changes reach `registry.events` through the outbox, with references and no secrets."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from harambee_gateway.__main__ import main
from harambee_gateway.app import create_app
from harambee_gateway.seed import TENANTS
from tests.gateway.conftest import ISSUER, gateway_settings, migrated_database
from tests.gateway.events import by_key, outbox_ids, outbox_keys, read_events, repeated
from tests.support.services import patched_env, rows


def test_seeding_publishes_each_change_once_with_no_secret(
    postgres: Any, broker: Any, signing_key_pem: bytes, tmp_path: Path
) -> None:
    database = migrated_database(postgres)
    out = tmp_path / "demo.json"
    with patched_env({"DATABASE_URL": database.app}):
        main(["seed-demo", "--out", str(out), "--gateway-url", ISSUER])
    document = json.loads(out.read_text())
    clients, people, apps = document["clients"], document["people"], document["apps"]
    ids = outbox_ids(database.owner)
    assert ids, "seeding wrote no events"

    settings = gateway_settings(
        signing_key_pem=signing_key_pem,
        database_url=database.app,
        relay_database_url=database.relay,
        bootstrap=broker.bootstrap,
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not rows(database.owner, "SELECT 1 FROM outbox WHERE published_at IS NULL"):
                break
            time.sleep(0.1)
        # Read once the relay has marked everything: a copy it sent again would be on the topic by then.
        events = read_events(broker.bootstrap, ids)

    assert not rows(database.owner, "SELECT 1 FROM outbox WHERE published_at IS NULL")
    assert sorted(e.id for e in events) == sorted(ids) and not repeated(events)  # each exactly once
    assert by_key(events) == outbox_keys(database.owner)  # each key's events in the order they were made
    by_type: dict[str, list] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event)
        assert event.headers["ce_source"] == "/gateway/registry"
        assert event.headers["ce_specversion"] == "1.0"
        assert event.key == f"{event.tenant}:{event.headers['ce_subject']}"
        assert event.data["actor"] == "seed-demo"
    # A tenant's own events carry that tenant; clients span tenants and carry `platform`.
    assert {(e.tenant, e.data["tenant"]) for e in by_type["tenant.created"]} == {(slug, slug) for slug, *_ in TENANTS}
    client_ids = {c["client_id"] for c in clients + apps}
    assert {e.data["client_id"] for e in by_type["client.created"]} == client_ids
    assert all(e.tenant == "platform" for e in by_type["client.created"])
    granted = {(e.tenant, e.data["client_id"]) for e in by_type["client.granted"]}
    assert granted == {(c["tenant"], c["client_id"]) for c in clients}

    everything = b" ".join(e.raw for e in events).decode()
    for client in clients:
        assert client["client_secret"] not in everything
    assert len(by_type["person.created"]) == len(people)
    for person in people:
        assert person["username"] not in everything
        assert person["password"] not in everything
    assert "$argon2" not in everything and "$sha256$" not in everything
    assert "secret_hash" not in everything


def test_seeding_again_publishes_rotations_but_not_unchanged_records(postgres: Any, tmp_path: Path) -> None:
    database = migrated_database(postgres)
    with patched_env({"DATABASE_URL": database.app}):
        main(["seed-demo", "--out", str(tmp_path / "a.json"), "--gateway-url", ISSUER])
        first = len(outbox_ids(database.owner))
        main(["seed-demo", "--out", str(tmp_path / "b.json"), "--gateway-url", ISSUER])
    types = [row.type for row in rows(database.owner, "SELECT type FROM outbox ORDER BY seq")][first:]
    document = json.loads((tmp_path / "b.json").read_text())
    # A person whose role signs in with a second factor gets a fresh one-time enrolment each time too.
    people = [t for p in document["people"]
              for t in ["person.password_reset", *(["person.enrolment_issued"] if p["enrolment_token"] else [])]]
    assert "person.enrolment_issued" in people
    clients = len(document["clients"])
    assert types[:clients] == ["client.secret_rotated"] * clients
    assert sorted(types[clients:]) == sorted(people)

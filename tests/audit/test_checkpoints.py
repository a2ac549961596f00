"""Signed checkpoints: every N entries or T seconds, published through the outbox, never inconsistent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import service
from harambee_audit.app import create_app
from harambee_audit.checkpointer import Checkpointer
from harambee_audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from harambee_audit.read_volume_watcher import ReadVolumeWatcher
from harambee_audit.signing import CheckpointBody, CheckpointSigner, VerifierKey, origin
from harambee_common import kafka
from harambee_common.catalogue.audit import CheckpointSigned
from harambee_common.consumer import EventConsumer
from harambee_common.db import unit_of_work
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


def record(consumer: Callable[..., EventConsumer], tenant: str, count: int, *, every: int) -> None:
    audit = consumer(checkpoint_every=every)
    for _ in range(count):
        deliver(audit, make_event(tenant))


def checkpoint_rows(owner: sa.Engine, tenant: str) -> list[sa.Row]:
    with owner.connect() as conn:
        return list(conn.execute(
            sa.text(
                "SELECT tree_size, root_hash, note FROM checkpoints WHERE tenant_id = :t ORDER BY tree_size"
            ),
            {"t": tenant},
        ))


def test_a_checkpoint_is_signed_every_n_entries_and_published_through_the_outbox(
    consumer: Callable[..., EventConsumer], owner: sa.Engine, signer: CheckpointSigner, tenant: str
) -> None:
    record(consumer, tenant, 10, every=4)

    rows = checkpoint_rows(owner, tenant)
    assert [r.tree_size for r in rows] == [4, 8]
    for row in rows:
        body = CheckpointBody.parse(signer.verifier.verify_note(row.note) or "")
        assert (body.origin, body.tree_size, body.root_hash) == (origin(tenant), row.tree_size, row.root_hash)
    with owner.connect() as conn:
        published = conn.execute(
            sa.text("SELECT topic, type, data FROM outbox WHERE tenant_id = :t ORDER BY seq"), {"t": tenant}
        ).all()
    assert [(p.topic, p.type, p.data["tree_size"]) for p in published] == [
        ("audit.events", "checkpoint.signed", 4),
        ("audit.events", "checkpoint.signed", 8),
    ]
    assert published[1].data["note"] == rows[1].note


def test_a_quiet_tail_is_signed_after_t_seconds_and_not_before(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], owner: sa.Engine,
    signer: CheckpointSigner, tenant: str,
) -> None:
    record(consumer, tenant, 3, every=1000)

    # Never signed before: due at once, however long T is.
    assert Checkpointer(sessions=sessions, signer=signer, max_age_seconds=3600).run_once() >= 1
    assert [r.tree_size for r in checkpoint_rows(owner, tenant)] == [3]
    record(consumer, tenant, 2, every=1000)
    Checkpointer(sessions=sessions, signer=signer, max_age_seconds=3600).run_once()
    assert [r.tree_size for r in checkpoint_rows(owner, tenant)] == [3]  # the last one is too recent
    Checkpointer(sessions=sessions, signer=signer, max_age_seconds=0).run_once()
    assert [r.tree_size for r in checkpoint_rows(owner, tenant)] == [3, 5]


def test_a_checkpoint_is_never_signed_over_a_rewritten_history(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], owner: sa.Engine,
    signer: CheckpointSigner, tenant: str,
) -> None:
    record(consumer, tenant, 4, every=4)
    record(consumer, tenant, 2, every=1000)
    # Someone with the owner's powers rewrites what the head says the first four entries hash to.
    with owner.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE log_heads SET frontier = :forged || substring(frontier FROM 33) WHERE tenant_id = :t"
            ),
            {"forged": leaf_hash(b"forged"), "t": tenant},
        )

    with pytest.raises(service.InconsistentLog), unit_of_work(sessions, tenant) as uow:
        service.sign_checkpoint(uow=uow, signer=signer)
    assert [r.tree_size for r in checkpoint_rows(owner, tenant)] == [4]


def test_inclusion_and_consistency_proofs_verify_against_the_published_key(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    record(consumer, tenant, 11, every=5)
    headers = issuer.headers(tenants={tenant: OFFICER})
    [key_doc] = api.get("/v1/signing-keys").json()["keys"]  # public: no token
    key = VerifierKey.load(key_doc["public_key_pem"])
    assert key_doc["key_id"] == key.key_id and VerifierKey.load(key_doc["note_key"]).raw == key.raw

    proof = api.get(f"/v1/tenants/{tenant}/entries/3/inclusion-proof", headers=headers).json()
    body = CheckpointBody.parse(key.verify_note(proof["checkpoint"]["note"]) or "")
    assert body.tree_size == proof["tree_size"] == 10
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    leaf = bytes.fromhex(proof["leaf_hash"])
    assert verify_inclusion(3, 10, leaf, hashes, body.root_hash)
    assert not verify_inclusion(4, 10, leaf, hashes, body.root_hash)

    consistency = api.get(
        f"/v1/tenants/{tenant}/consistency-proof", params={"first": 5, "second": 10}, headers=headers
    ).json()
    first = CheckpointBody.parse(key.verify_note(consistency["first"]["note"]) or "")
    second = CheckpointBody.parse(key.verify_note(consistency["second"]["note"]) or "")
    hashes = [bytes.fromhex(h) for h in consistency["hashes"]]
    assert verify_consistency(5, 10, first.root_hash, second.root_hash, hashes)

    uncovered = api.get(f"/v1/tenants/{tenant}/entries/10/inclusion-proof", headers=headers)
    assert uncovered.status_code == 409
    assert uncovered.json()["type"].endswith("/not-yet-checkpointed")
    listed = api.get(f"/v1/tenants/{tenant}/checkpoints", headers=headers).json()
    assert [c["tree_size"] for c in listed["items"]] == [5, 10]


def test_checkpoints_leave_as_events_on_the_audit_topic(
    audit_env: dict[str, str], consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    record(consumer, tenant, 2, every=2)
    bootstrap = audit_env["KAFKA_BOOTSTRAP_SERVERS"]
    kafka.ensure_topics(bootstrap)
    with TestClient(create_app()) as api:  # the relay runs while the app does
        # The service's own workers start after the shared ones (relay, consumer), and stop before them.
        assert [type(w) for w in api.app.state.workers][-2:] == [ReadVolumeWatcher, Checkpointer]
        reader = kafka.consumer(bootstrap, group_id=f"test-{tenant}", topics=["audit.events"])
        try:
            found = []
            for _ in range(120):  # at most ~60 s
                for messages in reader.poll(timeout_ms=500).values():
                    found += [m for m in messages if ("ce_tenant", tenant.encode()) in m.headers]
                if found:
                    break
        finally:
            reader.close()
    assert found, "no checkpoint.signed event reached audit.events"
    assert ("ce_type", b"checkpoint.signed") in found[0].headers
    assert CheckpointSigned.model_validate_json(found[0].value).tree_size == 2


def test_audit_refuses_to_start_without_a_signing_key(
    audit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_SIGNING_KEY_FILE")

    with pytest.raises(RuntimeError, match="AUDIT_SIGNING_KEY_FILE is not set"):
        create_app()


def test_audit_refuses_to_start_with_a_signing_key_it_cannot_read(
    audit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for unreadable in (tmp_path / "missing.pem", tmp_path):
        monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(unreadable))
        with pytest.raises(RuntimeError, match="cannot read the signing key"):
            create_app()
    (tmp_path / "garbled.pem").write_text("not a key")
    monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(tmp_path / "garbled.pem"))
    with pytest.raises(RuntimeError, match="cannot read the signing key"):
        create_app()

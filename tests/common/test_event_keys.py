"""Where a process's event keys and broker credentials come from: files named by the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from harambee_common import kafka, signing
from harambee_common.components import AUDIT, COMPONENTS, GATEWAY, INTAKE
from harambee_common.events import Event
from harambee_stack.keys import Keys
from tests.support.services import patched_env


def registry_event() -> Event:
    return Event(type="tenant.created", tenant="ke-mombasa", topic=GATEWAY.topic, source=GATEWAY.source,
                 subject="ke-mombasa", data={"tenant": "ke-mombasa"})


def test_the_signed_bytes_are_the_length_prefixed_attributes_then_the_data():
    attributes = {"ce_id": b"1", "ce_type": b"t", "ce_source": b"/s", "ce_tenant": b"ke", "ce_time": b"T"}
    expected = b"".join(len(p).to_bytes(4, "big") + p
                        for p in (b"harambee-event-signature/v1", b"1", b"t", b"/s", b"ke", b"", b"T", b"{}"))
    assert signing.signing_input(attributes, b"{}") == expected
    # Moving a byte from one attribute to the next changes what is signed.
    shifted = {**attributes, "ce_id": b"1t", "ce_type": b""}
    assert signing.signing_input(shifted, b"{}") != expected


def test_a_stack_process_signs_with_its_own_key_and_trusts_every_components(tmp_path: Path):
    keys = Keys.load_or_create(tmp_path / "secrets")
    env = keys.env(INTAKE.name)
    assert Path(env["EVENT_SIGNING_KEY_FILE"]).stat().st_mode & 0o077 == 0
    intake = signing.EventKeys.from_files(component=INTAKE, signing_key_file=Path(env["EVENT_SIGNING_KEY_FILE"]),
                                          public_keys_dir=Path(env["EVENT_PUBLIC_KEYS_DIR"]))
    gateway_env = keys.env(GATEWAY.name)
    gateway = signing.EventKeys.from_files(component=GATEWAY,
                                           signing_key_file=Path(gateway_env["EVENT_SIGNING_KEY_FILE"]),
                                           public_keys_dir=Path(gateway_env["EVENT_PUBLIC_KEYS_DIR"]))
    assert set(intake.signers) == {INTAKE.topic}
    assert {pinned.component for pinned in intake.pinned.values()} == set(COMPONENTS)
    event = registry_event()
    encoded = {"ce_id": event.id.encode(), "ce_type": event.type.encode()}
    headers = [*encoded.items(), *gateway.sign(GATEWAY.topic, encoded, event.value())]
    assert intake.verify(GATEWAY.topic, headers, event.value()) == GATEWAY
    with pytest.raises(signing.SigningNotConfigured):
        intake.sign(GATEWAY.topic, encoded, event.value())  # intake holds no key for the registry's topic


def test_a_process_without_its_key_or_with_a_component_missing_does_not_start(tmp_path: Path):
    keys = Keys.load_or_create(tmp_path / "secrets")
    env = keys.env(AUDIT.name)
    previous = signing.installed()
    try:
        signing.install(None)
        with patched_env({"EVENT_SIGNING_KEY_FILE": "", "EVENT_PUBLIC_KEYS_DIR": ""}), \
                pytest.raises(RuntimeError, match="EVENT_SIGNING_KEY_FILE"):
            signing.ensure_installed(AUDIT)
        (Path(env["EVENT_PUBLIC_KEYS_DIR"]) / "gateway.pem").unlink()
        with patched_env(env), pytest.raises(RuntimeError, match="no public key of gateway"):
            signing.ensure_installed(AUDIT)
        with pytest.raises(signing.SigningNotConfigured):
            registry_event().headers()
    finally:
        signing.install(previous)


def test_a_public_key_can_be_added_beside_the_old_one_before_the_producer_switches(tmp_path: Path):
    keys = Keys.load_or_create(tmp_path / "secrets")
    public = Path(keys.env(INTAKE.name)["EVENT_PUBLIC_KEYS_DIR"])
    new = signing.generate(INTAKE)
    (public / "intake.2027.pem").write_bytes(new.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    ring = signing.EventKeys.of(signers=[], public=signing.read_public_keys(public))
    assert [p.component for p in ring.pinned.values()].count(INTAKE) == 2
    encoded = {"ce_id": b"e-1", "ce_type": b"referral.received"}
    assert ring.verify(INTAKE.topic, [*encoded.items(), *new.sign(encoded, b"{}")], b"{}") == INTAKE


def test_the_broker_client_authenticates_with_scram_when_a_principal_is_configured(tmp_path: Path):
    password = tmp_path / "kafka-password"
    password.write_text("correct horse\n")
    with patched_env({"KAFKA_SASL_USERNAME": "", "KAFKA_SASL_PASSWORD_FILE": ""}):
        assert kafka.security() == {}  # the embedded broker: plaintext on loopback
    with patched_env({"KAFKA_SASL_USERNAME": "intake", "KAFKA_SASL_PASSWORD_FILE": str(password)}):
        assert kafka.security() == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                                    "sasl_plain_username": "intake", "sasl_plain_password": "correct horse"}
        kafka.ensure_topics("127.0.0.1:1")  # an authenticated principal creates no topics: nothing to reach
    with patched_env({"KAFKA_SASL_USERNAME": "intake", "KAFKA_SASL_PASSWORD_FILE": str(password),
                      "KAFKA_SSL_CAFILE": "/etc/ca.pem"}):
        assert kafka.security()["security_protocol"] == "SASL_SSL"
    with patched_env({"KAFKA_SASL_USERNAME": "intake", "KAFKA_SASL_PASSWORD_FILE": "",
                      "KAFKA_SASL_PASSWORD": "in-a-variable"}), pytest.raises(RuntimeError, match="PASSWORD_FILE"):
        kafka.security()  # a password only from a file

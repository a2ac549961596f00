"""The stack's secrets: generated once, kept in the state directory, handed to processes by path or env."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from harambee_common.components import AUDIT, COMPONENTS, GATEWAY, INTAKE


@dataclass(frozen=True)
class Keys:
    """Where the signing keys live, and the intake key-encryption key (never in a repr or a log).

    Each component has its own event signing key (Ed25519, `event-keys/<component>.key.pem`, 0600), and
    every component reads all their public keys from one directory (`event-keys/public/<component>.pem`).
    """

    gateway_signing_key_file: Path
    audit_signing_key_file: Path
    event_keys_dir: Path
    intake_key_encryption_key: str = field(repr=False)

    @classmethod
    def load_or_create(cls, directory: Path) -> Keys:
        """Reads the keys from directory, creating the missing ones (so data stays readable across runs)."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        gateway = _create_once(directory / "gateway-signing-key.pem", _ec_p256_pem)
        audit = _create_once(directory / "audit-signing-key.pem", _ed25519_pem)
        kek = _create_once(directory / "intake-key-encryption-key", _random_key_b64)
        event_keys = directory / "event-keys"
        (event_keys / "public").mkdir(mode=0o700, parents=True, exist_ok=True)
        for each in COMPONENTS:
            private = _create_once(event_keys / f"{each.name}.key.pem", _ed25519_pem)
            _create_once(event_keys / "public" / f"{each.name}.pem", lambda private=private: _public_pem(private))
        return cls(
            gateway_signing_key_file=gateway,
            audit_signing_key_file=audit,
            intake_key_encryption_key=kek.read_text().strip(),
            event_keys_dir=event_keys,
        )

    def env(self, component: str) -> dict[str, str]:
        """The secret-bearing variables one component needs: its own event key, everyone's public ones."""
        own = {
            GATEWAY.name: {"GATEWAY_SIGNING_KEY_FILE": str(self.gateway_signing_key_file)},
            INTAKE.name: {"INTAKE_KEY_ENCRYPTION_KEY": self.intake_key_encryption_key},
            AUDIT.name: {"AUDIT_SIGNING_KEY_FILE": str(self.audit_signing_key_file)},
        }.get(component, {})
        return {**own, "EVENT_SIGNING_KEY_FILE": str(self.event_keys_dir / f"{component}.key.pem"),
                "EVENT_PUBLIC_KEYS_DIR": str(self.event_keys_dir / "public")}


def _create_once(path: Path, make: Callable[[], bytes]) -> Path:
    if path.exists():
        return path
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    # Created 0600 from the start, and renamed into place so a reader never sees half a key.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(make())
    os.replace(temporary, path)
    return path


def _ec_p256_pem() -> bytes:
    return _pkcs8(ec.generate_private_key(ec.SECP256R1()))


def _ed25519_pem() -> bytes:
    return _pkcs8(ed25519.Ed25519PrivateKey.generate())


def _public_pem(private_key_file: Path) -> bytes:
    private = serialization.load_pem_private_key(private_key_file.read_bytes(), password=None)
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)


def _pkcs8(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _random_key_b64() -> bytes:
    return base64.b64encode(os.urandom(32)) + b"\n"

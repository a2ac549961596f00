"""The stack's secrets: generated once, kept in the state directory, handed to processes by path.

Every key is its own random file: the gateway's token-signing key and the key-encryption key its
sealed secrets are under; intake's key-encryption key and its separate blind-index key; audit's
checkpoint-signing key; each component's event-signing key. None is derived from another.
"""

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
    """Where each key file lives; the files hold the secrets, these paths are not secret.

    Each component has its own event signing key (Ed25519, `event-keys/<component>.key.pem`, 0600), and
    every component reads all their public keys from one directory (`event-keys/public/<component>.pem`).
    """

    gateway_signing_key_file: Path
    gateway_key_encryption_key_file: Path
    audit_signing_key_file: Path
    event_keys_dir: Path
    intake_key_encryption_key_file: Path
    intake_blind_index_key_file: Path
    # A state directory made before the gateway had a KEK: its registry's secrets are still sealed
    # under the signing key, and the runner re-seals them once (`reseal-secrets`).
    gateway_secrets_need_resealing: bool = field(default=False, repr=False)

    @classmethod
    def load_or_create(cls, directory: Path) -> Keys:
        """Reads the keys from directory, creating the missing ones (so data stays readable across runs)."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        gateway = directory / "gateway-signing-key.pem"
        upgrading_gateway = gateway.exists() and not (directory / "gateway-key-encryption-key").exists()
        _create_once(gateway, _ec_p256_pem)
        gateway_kek = _create_once(directory / "gateway-key-encryption-key", _random_key_b64)
        audit = _create_once(directory / "audit-signing-key.pem", _ed25519_pem)
        intake_kek = directory / "intake-key-encryption-key"
        # Older intakes made their blind indexes with the KEK itself; keep that key for the indexes
        # they hold (intake then warns until the KEK is rotated), a random one for a new state directory.
        earlier_kek = intake_kek.read_bytes() if intake_kek.exists() else None
        blind = _create_once(directory / "intake-blind-index-key", lambda: earlier_kek or _random_key_b64())
        _create_once(intake_kek, _random_key_b64)
        event_keys = directory / "event-keys"
        (event_keys / "public").mkdir(mode=0o700, parents=True, exist_ok=True)
        for each in COMPONENTS:
            private = _create_once(event_keys / f"{each.name}.key.pem", _ed25519_pem)
            _create_once(event_keys / "public" / f"{each.name}.pem", lambda private=private: _public_pem(private))
        return cls(
            gateway_signing_key_file=gateway,
            gateway_key_encryption_key_file=gateway_kek,
            audit_signing_key_file=audit,
            event_keys_dir=event_keys,
            intake_key_encryption_key_file=intake_kek,
            intake_blind_index_key_file=blind,
            gateway_secrets_need_resealing=upgrading_gateway,
        )

    def env(self, component: str) -> dict[str, str]:
        """The secret-bearing variables one component needs: its own event key, everyone's public ones."""
        own = {
            GATEWAY.name: {"GATEWAY_SIGNING_KEY_FILE": str(self.gateway_signing_key_file),
                           "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(self.gateway_key_encryption_key_file)},
            INTAKE.name: {"INTAKE_KEY_ENCRYPTION_KEY_FILE": str(self.intake_key_encryption_key_file),
                          "INTAKE_BLIND_INDEX_KEY_FILE": str(self.intake_blind_index_key_file)},
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

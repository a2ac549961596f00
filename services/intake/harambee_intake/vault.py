"""Envelope encryption of identifying fields: a data key per person, wrapped by a key per tenant.

Destroying a person's wrapped key (crypto-shredding) makes every copy of their fields unreadable,
backups included. Tenant keys are derived from the key-encryption key in the environment.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE = 12


class Vault:
    """Encrypts and decrypts one tenant's identifying fields."""

    def __init__(self, key_encryption_key: bytes) -> None:
        if len(key_encryption_key) != 32:
            raise ValueError("the key-encryption key must be 32 bytes")
        self._kek = key_encryption_key

    @classmethod
    def from_env(cls) -> Vault:
        """The vault keyed by INTAKE_KEY_ENCRYPTION_KEY (base64 of 32 bytes)."""
        encoded = os.environ.get("INTAKE_KEY_ENCRYPTION_KEY")
        if not encoded:
            raise RuntimeError("intake: INTAKE_KEY_ENCRYPTION_KEY is not set")
        return cls(base64.b64decode(encoded))

    def _tenant_key(self, tenant: str) -> AESGCM:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"harambee-tenant:{tenant}".encode()
        ).derive(self._kek)
        return AESGCM(derived)

    def new_wrapped_key(self, *, tenant: str, subject: str) -> bytes:
        """A fresh data key for one person, wrapped by the tenant key."""
        nonce = os.urandom(NONCE)
        wrapped = self._tenant_key(tenant).encrypt(nonce, AESGCM.generate_key(256), subject.encode())
        return nonce + wrapped

    def _data_key(self, *, tenant: str, subject: str, wrapped_key: bytes) -> AESGCM:
        key = self._tenant_key(tenant).decrypt(wrapped_key[:NONCE], wrapped_key[NONCE:], subject.encode())
        return AESGCM(key)

    def encrypt(
        self, fields: dict[str, str], *, tenant: str, subject: str, wrapped_key: bytes
    ) -> dict[str, str]:
        """Each field encrypted under the person's data key, bound to its name and subject."""
        key = self._data_key(tenant=tenant, subject=subject, wrapped_key=wrapped_key)
        sealed = {}
        for name, value in fields.items():
            nonce = os.urandom(NONCE)
            ciphertext = key.encrypt(nonce, value.encode(), f"{subject}:{name}".encode())
            sealed[name] = base64.b64encode(nonce + ciphertext).decode()
        return sealed

    def decrypt(
        self, sealed: dict[str, str], *, tenant: str, subject: str, wrapped_key: bytes
    ) -> dict[str, str]:
        """The plaintext fields of one person."""
        key = self._data_key(tenant=tenant, subject=subject, wrapped_key=wrapped_key)
        fields = {}
        for name, encoded in sealed.items():
            raw = base64.b64decode(encoded)
            fields[name] = key.decrypt(raw[:NONCE], raw[NONCE:], f"{subject}:{name}".encode()).decode()
        return fields

"""Sealing registry secrets with AES-GCM under keys derived from the gateway's bootstrap key.

The bootstrap key (GATEWAY_SIGNING_KEY_FILE) is the one secret every replica holds already; each
use derives its own key from it (HKDF with a distinct `info`), so a database dump alone reveals
none of what is sealed, and a secret sealed for one purpose cannot be opened for another.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class SealedSecretUnreadable(Exception):
    """A sealed secret was sealed under another key, or altered."""


def derive_key(bootstrap_pem: bytes, *, info: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from the bootstrap EC private key."""
    private = serialization.load_pem_private_key(bootstrap_pem, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise RuntimeError("gateway: the bootstrap key must be an EC private key")
    secret = private.private_numbers().private_value.to_bytes(32, "big")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


class SecretBox:
    """Seals and opens secrets for one purpose; `bound_to` ties each to its record (AES-GCM AAD)."""

    def __init__(self, bootstrap_pem: bytes, *, purpose: bytes) -> None:
        self._aead = AESGCM(derive_key(bootstrap_pem, info=purpose))

    def seal(self, secret: str, *, bound_to: str) -> bytes:
        """The secret encrypted: nonce followed by ciphertext and tag."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), bound_to.encode())

    def open(self, sealed: bytes, *, bound_to: str) -> str:
        """The secret in clear; SealedSecretUnreadable when it was sealed elsewhere or altered."""
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to.encode()).decode()
        except InvalidTag as exc:
            raise SealedSecretUnreadable from exc

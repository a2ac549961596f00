"""Sealing registry secrets with AES-GCM under keys derived from the gateway's key-encryption key (KEK).

The KEK (GATEWAY_KEY_ENCRYPTION_KEY_FILE) is 32 random bytes held only in a file every replica
mounts; it signs nothing and is never in the database, so neither a database dump nor the token-signing
key opens what is sealed. Each use derives its own key from it (HKDF with a distinct `info`), so a
secret sealed for one purpose cannot be opened for another. `reseal` moves every sealed secret to a
new KEK; while it runs, replicas given the old KEK as retired (GATEWAY_RETIRED_KEY_ENCRYPTION_KEY_FILES)
still open what is not moved yet, and seal only under the new one.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from harambee_common.config import read_key_file

NONCE_BYTES = 12


class SealedSecretUnreadable(Exception):
    """A sealed secret was sealed under another key, or altered."""


def derive_key(root: bytes, *, info: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from a root key (the KEK)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)


def read_key_encryption_key(path: str | Path, *, variable: str = "GATEWAY_KEY_ENCRYPTION_KEY_FILE") -> bytes:
    """The KEK in a file (see harambee_common.config.read_key_file)."""
    return read_key_file(path, variable=variable)


def legacy_root(signing_key_pem: bytes) -> bytes:
    """The root older versions sealed under: the bootstrap signing key's private scalar.

    Only `reseal --previous-signing-key-file` uses it, to move those secrets under the KEK.
    """
    private = serialization.load_pem_private_key(signing_key_pem, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise RuntimeError("gateway: the previous signing key must be an EC private key")
    return private.private_numbers().private_value.to_bytes(32, "big")


class SecretBox:
    """Seals and opens secrets for one purpose; `bound_to` ties each to its record (AES-GCM AAD).

    Seals under root only; opens with root or any retired root (a KEK being replaced).
    """

    def __init__(self, root: bytes, *, purpose: bytes, retired: tuple[bytes, ...] = ()) -> None:
        self._aead = AESGCM(derive_key(root, info=purpose))
        self._openers = [self._aead, *(AESGCM(derive_key(r, info=purpose)) for r in retired)]

    def seal(self, secret: str, *, bound_to: str) -> bytes:
        """The secret encrypted: nonce followed by ciphertext and tag."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), bound_to.encode())

    def open(self, sealed: bytes, *, bound_to: str) -> str:
        """The secret in clear; SealedSecretUnreadable when it was sealed elsewhere or altered."""
        for aead in self._openers:
            try:
                return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to.encode()).decode()
            except InvalidTag:
                continue
        raise SealedSecretUnreadable

"""Envelope encryption of identifying fields: a data key per person, wrapped by a key per tenant.

Destroying a person's wrapped key (crypto-shredding) makes every copy of their fields unreadable.
Everything sealed under a
person's key is bound (as AES-GCM associated data) to where it belongs, so a ciphertext moved to
another row or field does not decrypt.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE = 12


class DataKey:
    """One person's unwrapped data key: seals and opens the fields stored under it."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt_text(self, value: str, *, context: str) -> str:
        """One string, sealed and bound to its context."""
        nonce = os.urandom(NONCE)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, value.encode(), context.encode())).decode()

    def decrypt_text(self, sealed: str, *, context: str) -> str:
        """The string sealed under context."""
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:NONCE], raw[NONCE:], context.encode()).decode()

    def seal(self, values: Mapping[str, Any], *, context: str) -> dict[str, str]:
        """Each non-empty value as JSON, sealed and bound to context and its name."""
        return {
            name: self.encrypt_text(json.dumps(value, separators=(",", ":")), context=f"{context}:{name}")
            for name, value in values.items()
            if value is not None
        }

    def open(self, sealed: Mapping[str, str], *, context: str) -> dict[str, Any]:
        """The values of seal()."""
        return {
            name: json.loads(self.decrypt_text(value, context=f"{context}:{name}"))
            for name, value in sealed.items()
        }


@dataclass(frozen=True)
class WrappedKey:
    """A person's data key as stored: wrapped by one generation of the tenant key."""

    wrapped: bytes
    generation: int
    kek_id: str | None  # None: wrapped before key ids were recorded (generation 0)


class Vault:
    """Makes, wraps and unwraps the data keys of each tenant's people; keys the blind indexes.

    Tenant keys are derived (HKDF-SHA256) from a key-encryption key (KEK) and a generation number
    that rotation raises. `INTAKE_KEY_ENCRYPTION_KEY` is the KEK new wraps use;
    `INTAKE_RETIRED_KEY_ENCRYPTION_KEYS` (comma-separated) are KEKs still accepted for unwrapping
    until a rotation has re-wrapped everything they wrapped. Remove a retired KEK once no tenant
    uses it: backups taken before an erasure then hold nothing that opens the erased person's key.
    """

    def __init__(
        self, key_encryption_key: bytes, *, retired: tuple[bytes, ...] = (),
        blind_index_key: bytes | None = None,
    ) -> None:
        for key in (key_encryption_key, *retired):
            if len(key) != 32:
                raise ValueError("a key-encryption key must be 32 bytes")
        self._kek = key_encryption_key
        self.kek_id = kek_id(key_encryption_key)
        self._keks = {kek_id(k): k for k in (*retired, key_encryption_key)}
        self._blind_base = blind_index_key or key_encryption_key

    @classmethod
    def from_env(cls) -> Vault:
        """The vault keyed by INTAKE_KEY_ENCRYPTION_KEY (base64 of 32 bytes) and the optional
        INTAKE_RETIRED_KEY_ENCRYPTION_KEYS and INTAKE_BLIND_INDEX_KEY."""
        encoded = os.environ.get("INTAKE_KEY_ENCRYPTION_KEY")
        if not encoded:
            raise RuntimeError("intake: INTAKE_KEY_ENCRYPTION_KEY is not set")
        retired = tuple(
            base64.b64decode(k) for k in os.environ.get("INTAKE_RETIRED_KEY_ENCRYPTION_KEYS", "").split(",")
            if k.strip()
        )
        blind = os.environ.get("INTAKE_BLIND_INDEX_KEY")
        if retired and not blind:
            # The blind index would otherwise change with the KEK and no repeat referral would match.
            raise RuntimeError(
                "intake: INTAKE_RETIRED_KEY_ENCRYPTION_KEYS is set but INTAKE_BLIND_INDEX_KEY is not; "
                "set it to the key the blind indexes were made with (the first "
                "INTAKE_KEY_ENCRYPTION_KEY, unless one was set)"
            )
        return cls(base64.b64decode(encoded), retired=retired,
                   blind_index_key=base64.b64decode(blind) if blind else None)

    def _tenant_key(self, tenant: str, *, generation: int, kek: bytes) -> AESGCM:
        # Generation 0 keeps the derivation that predates rotation, so older wraps still open.
        info = f"harambee-tenant:{tenant}" if generation == 0 else f"harambee-tenant:{tenant}:{generation}"
        return AESGCM(_hkdf(kek, info))

    def blind_index_key(self, tenant: str) -> bytes:
        """The tenant's key for blind indexes (stable across KEK rotations)."""
        return _hkdf(self._blind_base, f"harambee-blind-index:{tenant}")

    def new_key(self, *, tenant: str, subject: str, generation: int) -> tuple[DataKey, WrappedKey]:
        """A fresh data key for one person, and its wrap under the tenant key of that generation."""
        key = AESGCM.generate_key(256)
        return DataKey(key), self._wrap(key, tenant=tenant, subject=subject, generation=generation)

    def _wrap(self, key: bytes, *, tenant: str, subject: str, generation: int) -> WrappedKey:
        nonce = os.urandom(NONCE)
        tenant_key = self._tenant_key(tenant, generation=generation, kek=self._kek)
        return WrappedKey(nonce + tenant_key.encrypt(nonce, key, subject.encode()), generation, self.kek_id)

    def _unwrap(self, *, tenant: str, subject: str, wrapped: WrappedKey) -> bytes:
        if wrapped.kek_id is not None and wrapped.kek_id not in self._keks:
            raise KeyUnavailable(f"the KEK {wrapped.kek_id} that wrapped this key is not configured")
        candidates = [self._keks[wrapped.kek_id]] if wrapped.kek_id else list(self._keks.values())
        for kek in candidates:
            tenant_key = self._tenant_key(tenant, generation=wrapped.generation, kek=kek)
            try:
                return tenant_key.decrypt(wrapped.wrapped[:NONCE], wrapped.wrapped[NONCE:], subject.encode())
            except InvalidTag:
                continue
        raise KeyUnavailable("no configured KEK unwraps this key")

    def data_key(self, *, tenant: str, subject: str, wrapped: WrappedKey) -> DataKey:
        """The person's data key, unwrapped."""
        return DataKey(self._unwrap(tenant=tenant, subject=subject, wrapped=wrapped))

    def rewrap(self, *, tenant: str, subject: str, wrapped: WrappedKey, generation: int) -> WrappedKey:
        """The same data key wrapped under another generation of the tenant key: fields stay as they are."""
        key = self._unwrap(tenant=tenant, subject=subject, wrapped=wrapped)
        return self._wrap(key, tenant=tenant, subject=subject, generation=generation)

    def transfer(
        self, *, from_tenant: str, to_tenant: str, subject: str, wrapped: WrappedKey, generation: int
    ) -> WrappedKey:
        """The same data key, unwrapped with one tenant's key and wrapped under another's.

        Fields sealed under the key are bound to the subject, not the tenant, so they move as they are.
        """
        key = self._unwrap(tenant=from_tenant, subject=subject, wrapped=wrapped)
        return self._wrap(key, tenant=to_tenant, subject=subject, generation=generation)

    def wrap_secret(self, secret: bytes, *, tenant: str, context: str, generation: int) -> WrappedKey:
        """Another secret of the tenant (e.g. a webhook's signing secret), wrapped like a data key."""
        return self._wrap(secret, tenant=tenant, subject=context, generation=generation)

    def unwrap_secret(self, *, tenant: str, context: str, wrapped: WrappedKey) -> bytes:
        """A secret wrapped by wrap_secret."""
        return self._unwrap(tenant=tenant, subject=context, wrapped=wrapped)


class KeyUnavailable(Exception):
    """A wrapped key that no configured key-encryption key opens."""


def kek_id(kek: bytes) -> str:
    """A stable, non-secret name for a KEK."""
    return hmac.new(kek, b"harambee-kek-id", hashlib.sha256).hexdigest()[:16]


@functools.lru_cache(maxsize=1024)  # a pure function of its inputs, derived on every submission otherwise
def _hkdf(key: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(key)


def identity_context(subject: str, field: str) -> str:
    """What an identity field is bound to."""
    return f"{subject}:{field}"

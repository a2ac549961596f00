"""Envelope encryption of identifying fields: a data key per person, wrapped by a key per tenant.

Destroying a person's wrapped key (crypto-shredding) makes every copy of their fields unreadable.
Everything sealed under a
person's key is bound (as AES-GCM associated data) to where it belongs, so a ciphertext moved to
another row or field does not decrypt.

Three kinds of key, none derived from another: the key-encryption key (KEK) and the blind-index key,
each 32 random bytes in a file of its own; and the tenant keys, 32 random bytes per tenant and
generation, stored wrapped by the KEK (tenant_keys.py). See the README's "Erasure and backups" for
how long an erased person survives in a backup, and why.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from harambee_common.config import read_key_file
from harambee_intake.tenant_keys import TenantKeyStore

NONCE = 12
KEY_BYTES = 32
# How long a process keeps an unwrapped tenant key: a generation destroyed elsewhere is gone here after this.
TENANT_KEY_CACHE_SECONDS = 60.0
log = logging.getLogger(__name__)
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
    kek_id: str | None  # the KEK, for generations an older version derived from it; None for stored ones


class Vault:
    """Makes, wraps and unwraps the data keys of each tenant's people; keys the blind indexes.

    `INTAKE_KEY_ENCRYPTION_KEY_FILE` holds the KEK new tenant keys are wrapped with;
    `INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES` (comma-separated paths) hold KEKs still accepted for
    unwrapping until a rotation has moved each tenant to a generation the current KEK wraps;
    `INTAKE_BLIND_INDEX_KEY_FILE` holds the blind-index key. Keys come from files only, never from
    the environment, where any child process and many crash reports would see them.
    """

    def __init__(
        self, key_encryption_key: bytes, *, blind_index_key: bytes, retired: tuple[bytes, ...] = (),
        store: TenantKeyStore | None = None,
    ) -> None:
        for key in (key_encryption_key, *retired, blind_index_key):
            if len(key) != KEY_BYTES:
                raise ValueError("a key-encryption or blind-index key must be 32 bytes")
        self._kek = key_encryption_key
        self.kek_id = kek_id(key_encryption_key)
        self._keks = {kek_id(k): k for k in (*retired, key_encryption_key)}
        if blind_index_key in self._keks.values():
            # An older default: the indexes it made keep working, but the KEK can then not be retired
            # without rebuilding them. Rotate to a new KEK (and keep this one as the blind-index key).
            log.warning("intake: the blind-index key is a key-encryption key; give the KEK a new random key")
        self._blind_base = blind_index_key
        self._store = store
        # (tenant, generation) -> (when read, the unwrapped key or None for a derived generation, its KEK id)
        self._cache: dict[tuple[str, int], tuple[float, AESGCM | None, str | None]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Vault:
        """The vault keyed by the files INTAKE_KEY_ENCRYPTION_KEY_FILE and INTAKE_BLIND_INDEX_KEY_FILE, and
        the optional INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES."""
        for variable in ("INTAKE_KEY_ENCRYPTION_KEY", "INTAKE_BLIND_INDEX_KEY", "INTAKE_RETIRED_KEY_ENCRYPTION_KEYS"):
            if os.environ.get(variable):
                raise RuntimeError(f"intake: {variable} is no longer read: keys come from files "
                                   "(INTAKE_KEY_ENCRYPTION_KEY_FILE, INTAKE_BLIND_INDEX_KEY_FILE, "
                                   "INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES)")
        retired = tuple(
            read_key_file(p.strip(), variable="INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES")
            for p in os.environ.get("INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES", "").split(",") if p.strip()
        )
        return cls(_key_from_file("INTAKE_KEY_ENCRYPTION_KEY_FILE"), retired=retired,
                   blind_index_key=_key_from_file("INTAKE_BLIND_INDEX_KEY_FILE"))

    def use_store(self, store: TenantKeyStore) -> None:
        """Where the wrapped tenant keys are (the service's database), given once the app has its sessions."""
        self._store = store

    # -- tenant keys -----------------------------------------------------------------------------

    def start_generation(self, *, tenant: str, generation: int) -> None:
        """Makes the tenant's key of this generation: 32 random bytes, stored wrapped by the KEK."""
        nonce = os.urandom(NONCE)
        key = AESGCM.generate_key(256)
        wrapped = nonce + AESGCM(self._kek).encrypt(nonce, key, _material_context(tenant, generation))
        self._tenant_keys().create(tenant=tenant, generation=generation, wrapped=wrapped, kek_id=self.kek_id)

    def has_generation(self, *, tenant: str, generation: int) -> bool:
        """Whether this generation's key is stored, readable and wrapped by the current KEK."""
        try:
            stored, wrapped_by = self._stored_tenant_key(tenant, generation)
        except KeyUnavailable:
            return False
        return stored is not None and wrapped_by == self.kek_id

    def forget(self, *, tenant: str) -> None:
        """Drops this process's copies of the tenant's keys (after generations were destroyed)."""
        with self._lock:
            for cached in [k for k in self._cache if k[0] == tenant]:
                del self._cache[cached]

    def _tenant_keys(self) -> TenantKeyStore:
        if self._store is None:
            raise RuntimeError("intake: the vault has no tenant key store")
        return self._store

    def _stored_tenant_key(self, tenant: str, generation: int) -> tuple[AESGCM | None, str | None]:
        """The stored key of this generation and the KEK that wraps it; None for a generation an older version
        derived; KeyUnavailable when it was destroyed or its KEK is not configured."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((tenant, generation))
        if cached is None or now - cached[0] > TENANT_KEY_CACHE_SECONDS:
            material = self._tenant_keys().read(tenant=tenant, generation=generation)
            aead, wrapped_by = None, None
            if material is not None:
                if material.wrapped is None:
                    raise KeyUnavailable(f"generation {generation} of the tenant key has been destroyed")
                kek = self._keks.get(material.kek_id)
                if kek is None:
                    raise KeyUnavailable(f"the KEK {material.kek_id} that wrapped this tenant key is not configured")
                raw = material.wrapped
                aead = AESGCM(AESGCM(kek).decrypt(raw[:NONCE], raw[NONCE:], _material_context(tenant, generation)))
                wrapped_by = material.kek_id
            cached = (now, aead, wrapped_by)
            with self._lock:
                self._cache[(tenant, generation)] = cached
        return cached[1], cached[2]

    def _legacy_tenant_keys(self, tenant: str, generation: int, wrapped_kek: str | None) -> list[AESGCM]:
        """Tenant keys as versions before 0016 derived them (HKDF of a KEK), for data keys they wrapped."""
        if wrapped_kek is not None and wrapped_kek not in self._keks:
            raise KeyUnavailable(f"the KEK {wrapped_kek} that wrapped this key is not configured")
        keks = [self._keks[wrapped_kek]] if wrapped_kek else list(self._keks.values())
        info = f"harambee-tenant:{tenant}" if generation == 0 else f"harambee-tenant:{tenant}:{generation}"
        return [AESGCM(_hkdf(kek, info)) for kek in keks]

    # -- data keys -------------------------------------------------------------------------------

    def blind_index_key(self, tenant: str) -> bytes:
        """The tenant's key for blind indexes (stable across KEK and tenant key rotations)."""
        return _hkdf(self._blind_base, f"harambee-blind-index:{tenant}")

    def new_key(self, *, tenant: str, subject: str, generation: int) -> tuple[DataKey, WrappedKey]:
        """A fresh data key for one person, and its wrap under the tenant key of that generation."""
        key = AESGCM.generate_key(256)
        return DataKey(key), self._wrap(key, tenant=tenant, subject=subject, generation=generation)

    def _wrap(self, key: bytes, *, tenant: str, subject: str, generation: int) -> WrappedKey:
        tenant_key, _ = self._stored_tenant_key(tenant, generation)
        if tenant_key is None:
            raise KeyUnavailable(f"generation {generation} of the tenant key has not been made")
        nonce = os.urandom(NONCE)
        return WrappedKey(nonce + tenant_key.encrypt(nonce, key, subject.encode()), generation, None)

    def _unwrap(self, *, tenant: str, subject: str, wrapped: WrappedKey) -> bytes:
        stored, _ = self._stored_tenant_key(tenant, wrapped.generation)
        candidates = [stored] if stored is not None else self._legacy_tenant_keys(
            tenant, wrapped.generation, wrapped.kek_id)
        for tenant_key in candidates:
            try:
                return tenant_key.decrypt(wrapped.wrapped[:NONCE], wrapped.wrapped[NONCE:], subject.encode())
            except InvalidTag:
                continue
        raise KeyUnavailable("no configured key unwraps this key")

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


def _key_from_file(variable: str) -> bytes:
    path = os.environ.get(variable)
    if not path:
        raise RuntimeError(f"intake: {variable} is not set; it must name a file holding base64 of 32 random "
                           "bytes (openssl rand -base64 32), a key of its own")
    return read_key_file(path, variable=variable)


def _material_context(tenant: str, generation: int) -> bytes:
    # A wrapped tenant key opens only as the key of its own tenant and generation.
    return f"harambee-tenant-key:{tenant}:{generation}".encode()


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

"""The keys that sign access tokens, and the public JWKS that lets every service verify them.

Rotation without a failed verification: a new key is published in the JWKS at once but signs only
after a lead time longer than any verifier's cache (services refetch the JWKS when they meet an
unknown kid, at most every 10 s; HTTP caches may hold it for the JWKS's max-age). A key that stops
signing stays published until the last token it signed has expired.

The bootstrap key comes from GATEWAY_SIGNING_KEY_FILE. Keys made by rotation live in the registry
database, encrypted with AES-GCM under a key derived from the bootstrap key, so every replica
shares them and a database dump alone does not reveal them.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.catalogue.registry import SigningKeyRotated
from harambee_common.db import UnitOfWork
from harambee_common.workers import PeriodicWorker
from harambee_gateway import repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import StoredSigningKey
from harambee_gateway.secret_box import derive_key

ALGORITHM = "ES256"
log = logging.getLogger(__name__)
# Verifiers accept tokens up to 30 s past expiry (clock leeway); keep old keys a little longer.
RETENTION_MARGIN = timedelta(seconds=60)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SigningKey:
    """An EC P-256 private key with a stable kid (its RFC 7638 thumbprint)."""

    def __init__(self, pem: bytes) -> None:
        try:
            key = ECKey.import_key(pem)
        except Exception as exc:  # joserfc raises several types for malformed input
            raise RuntimeError(f"gateway: the signing key is not a valid EC PEM key: {exc}") from exc
        if not key.is_private or key.as_dict(private=False).get("crv") != "P-256":
            raise RuntimeError("gateway: the signing key must be an EC P-256 private key")
        # The thumbprint changes only with the key, so services can cache the JWKS by kid.
        kid = key.thumbprint()
        self.key = ECKey.import_key(pem, {"kid": kid, "alg": ALGORITHM, "use": "sig"})
        self.kid = kid
        self.pem = pem

    def key_set(self) -> KeySet:
        """The private key set used for signing."""
        return KeySet([self.key])

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS document: public parts only."""
        return {"keys": [self.key.as_dict(private=False)]}


@dataclass(frozen=True)
class RingKey:
    """A key in the ring and the moment it starts (or started) signing."""

    key: SigningKey
    signs_from: datetime


class KeyRing:
    """The bootstrap key plus rotated keys: which one signs now, and which ones are published."""

    def __init__(self, bootstrap: SigningKey, *, token_ttl_seconds: int) -> None:
        self.bootstrap = bootstrap
        self._retention = timedelta(seconds=token_ttl_seconds) + RETENTION_MARGIN
        self._kek = AESGCM(_derive_kek(bootstrap.pem))
        self._keys: list[RingKey] = [RingKey(bootstrap, _EPOCH)]
        self._lock = threading.Lock()
        self._published: tuple[tuple[str, ...], KeySet] | None = None

    # -- what signs and what is published ------------------------------------------------------

    def signing(self, now: datetime | None = None) -> SigningKey:
        """The key that signs at this moment: the newest whose time has come."""
        now = now or datetime.now(UTC)
        return max((k for k in self._keys if k.signs_from <= now), key=lambda k: k.signs_from).key

    @property
    def kid(self) -> str:
        """The kid of the key signing now."""
        return self.signing().kid

    def key_set(self) -> KeySet:
        """The key signing now, as the token generator wants it (its kid goes in the header)."""
        return self.signing().key_set()

    def published(self, now: datetime | None = None) -> list[RingKey]:
        """Keys in the JWKS: those waiting to sign, the one signing, and retired ones still needed."""
        now = now or datetime.now(UTC)
        keys = sorted(self._keys, key=lambda k: k.signs_from)
        shown = []
        for index, ring_key in enumerate(keys):
            successor = next((k for k in keys[index + 1 :] if k.signs_from <= now), None)
            if successor is None or successor.signs_from + self._retention > now:
                shown.append(ring_key)
        return shown

    def public_jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """The JWKS document: public parts of the published keys, newest first."""
        return {"keys": [k.key.key.as_dict(private=False) for k in reversed(self.published(now))]}

    def public_key_set(self) -> KeySet:
        """The published keys as a key set, rebuilt only when the published set changes."""
        published = self.published()
        kids = tuple(k.key.kid for k in published)
        cached = self._published
        if cached is None or cached[0] != kids:
            cached = (kids, KeySet([ECKey.import_key(k.key.key.as_dict(private=False)) for k in published]))
            self._published = cached
        return cached[1]

    # -- loading and rotating ------------------------------------------------------------------

    def load(self, *, db_session: Session) -> None:
        """Reads the rotated keys from the registry (keys it cannot decrypt are skipped)."""
        loaded = [RingKey(self.bootstrap, _EPOCH)]
        known = {k.key.kid: k for k in self._keys}
        for row in repository.list_signing_keys(db_session=db_session):
            if row.kid in known:
                loaded.append(known[row.kid])
                continue
            try:
                pem = self._kek.decrypt(
                    row.encrypted_private_key[:12], row.encrypted_private_key[12:], row.kid.encode()
                )
            except InvalidTag:
                log.warning("signing key %s was encrypted under another bootstrap key; skipped", row.kid)
                continue
            loaded.append(RingKey(SigningKey(pem), row.signs_from))
        with self._lock:
            self._keys = loaded

    def rotate(self, *, uow: UnitOfWork, publish_lead_seconds: float, actor: str) -> RingKey:
        """Makes a new key: published at once, signing after the lead time. Loads it into the ring."""
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key = SigningKey(pem)
        nonce = os.urandom(12)
        signs_from = datetime.now(UTC) + timedelta(seconds=publish_lead_seconds)
        repository.add(
            db_session=uow.session,
            row=StoredSigningKey(
                kid=key.kid,
                encrypted_private_key=nonce + self._kek.encrypt(nonce, pem, key.kid.encode()),
                signs_from=signs_from,
            ),
        )
        publish(uow, SigningKeyRotated(kid=key.kid, signs_from=signs_from, actor=actor), tenant=PLATFORM,
                subject=key.kid)
        ring_key = RingKey(key, signs_from)
        with self._lock:
            self._keys = [*self._keys, ring_key]
        return ring_key

    def describe(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Each published key with its state: pending, signing or retiring."""
        now = now or datetime.now(UTC)
        current = self.signing(now).kid
        return [
            {
                "kid": k.key.kid,
                "signs_from": None if k.signs_from == _EPOCH else k.signs_from,
                "state": "signing" if k.key.kid == current else ("pending" if k.signs_from > now else "retiring"),
            }
            for k in reversed(self.published(now))
        ]


def _derive_kek(bootstrap_pem: bytes) -> bytes:
    return derive_key(bootstrap_pem, info=b"harambee gateway signing keys")


class KeyRingRefresher(PeriodicWorker):
    """Reloads the ring from the registry every interval, so every replica learns of new keys."""

    name = "key-ring"

    def __init__(self, *, ring: KeyRing, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        super().__init__(interval=interval_seconds)
        self._ring = ring
        self._sessions = sessions

    def start(self) -> None:
        """Loads now (best effort: the bootstrap key signs meanwhile), then keeps reloading in the background."""
        try:
            self.run_once()
        except Exception as exc:  # the database may be away at startup; the passes retry
            log.warning("signing keys not loaded yet: %s", type(exc).__name__)
        super().start()

    def run_once(self) -> int:
        """Reloads the ring once; returns how many keys it holds."""
        with self._sessions() as db_session:
            self._ring.load(db_session=db_session)
        return len(self._ring.published())

"""The keys that sign access tokens, and the public JWKS that lets every service verify them.

Rotation without a failed verification: a new key is published in the JWKS at once but signs only
after a lead time longer than any verifier's cache (services refetch the JWKS when they meet an
unknown kid, at most every 10 s; HTTP caches may hold it for the JWKS's max-age). A key that stops
signing stays published until the last token it signed has expired.

The bootstrap key comes from GATEWAY_SIGNING_KEY_FILE. Keys made by rotation live in the registry
database, sealed (AES-GCM) under the key-encryption key (secret_box), never under a signing key, so
every replica shares them and neither a database dump nor a signing key reveals them.

The first rotation retires the bootstrap key for good: the retirement is recorded in the registry,
and from then on the bootstrap key only stays published until its last token has expired. It never
signs again, not even when the rotated keys cannot be read (a replica with the wrong KEK, the
database away at startup): the ring then signs nothing and the token endpoint answers 503, rather
than fall back to a key an operator has taken out of service. A ring that has not loaded the
registry yet signs nothing either, for the same reason.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.catalogue.registry import SigningKeyRotated
from harambee_common.db import UnitOfWork
from harambee_common.problems import ServiceUnavailable
from harambee_common.workers import PeriodicWorker
from harambee_gateway import repository
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import RetiredSigningKey, StoredSigningKey
from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox

ALGORITHM = "ES256"
SECRET_PURPOSE = b"harambee gateway signing keys"
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


class NoSigningKey(ServiceUnavailable):
    """No key may sign now: the registry's keys are not loaded, or cannot be read with this KEK."""

    title = "No signing key is available"


@dataclass(frozen=True)
class RingKey:
    """A key in the ring, the moment it starts (or started) signing, and when it was retired for good."""

    key: SigningKey
    signs_from: datetime
    retired_from: datetime | None = None

    def signs_at(self, now: datetime) -> bool:
        """Whether this key may sign at this moment."""
        return self.signs_from <= now and (self.retired_from is None or now < self.retired_from)


def secret_box(key_encryption_key: bytes, retired: tuple[bytes, ...] = ()) -> SecretBox:
    """The box that seals rotated signing keys (bound to their kid), keyed from the KEK."""
    return SecretBox(key_encryption_key, purpose=SECRET_PURPOSE, retired=retired)


class KeyRing:
    """The bootstrap key plus rotated keys: which one signs now, and which ones are published."""

    def __init__(
        self, bootstrap: SigningKey, *, key_encryption_key: bytes, token_ttl_seconds: int,
        retired_key_encryption_keys: tuple[bytes, ...] = (),
    ) -> None:
        self.bootstrap = bootstrap
        self._retention = timedelta(seconds=token_ttl_seconds) + RETENTION_MARGIN
        self._box = secret_box(key_encryption_key, retired_key_encryption_keys)
        self._keys: list[RingKey] = [RingKey(bootstrap, _EPOCH)]
        self._loaded = False
        self._lock = threading.Lock()
        self._published: tuple[tuple[str, ...], KeySet] | None = None

    # -- what signs and what is published ------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the ring has read the registry's keys at least once."""
        return self._loaded

    def signing(self, now: datetime | None = None) -> SigningKey:
        """The key that signs at this moment: the newest whose time has come and that is not retired."""
        now = now or datetime.now(UTC)
        if not self._loaded:
            raise NoSigningKey("The signing keys have not been loaded from the registry yet.")
        eligible = [k for k in self._keys if k.signs_at(now)]
        if not eligible:
            raise NoSigningKey("No signing key this gateway can read may sign now.")
        return max(eligible, key=lambda k: k.signs_from).key

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
            ended = min((t for t in (ring_key.retired_from, successor and successor.signs_from) if t), default=None)
            if ended is None or ended + self._retention > now:
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
        """Reads the rotated keys and the retirements from the registry (keys it cannot open are skipped)."""
        retired = repository.signing_key_retirements(db_session=db_session)
        loaded = [RingKey(self.bootstrap, _EPOCH, retired.get(self.bootstrap.kid))]
        known = {k.key.kid: k for k in self._keys}
        for row in repository.list_signing_keys(db_session=db_session):
            if row.kid == self.bootstrap.kid:
                continue
            if row.kid in known:
                loaded.append(RingKey(known[row.kid].key, row.signs_from, retired.get(row.kid)))
                continue
            try:
                pem = self._box.open(row.encrypted_private_key, bound_to=row.kid).encode()
            except SealedSecretUnreadable:
                log.warning("signing key %s was sealed under another key-encryption key; skipped", row.kid)
                continue
            loaded.append(RingKey(SigningKey(pem), row.signs_from, retired.get(row.kid)))
        with self._lock:
            self._keys = loaded
            self._loaded = True

    def rotate(self, *, uow: UnitOfWork, publish_lead_seconds: float, actor: str) -> RingKey:
        """Makes a new key: published at once, signing after the lead time. Loads it into the ring."""
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key = SigningKey(pem)
        signs_from = datetime.now(UTC) + timedelta(seconds=publish_lead_seconds)
        repository.add(
            db_session=uow.session,
            row=StoredSigningKey(
                kid=key.kid,
                encrypted_private_key=self._box.seal(pem.decode(), bound_to=key.kid),
                signs_from=signs_from,
            ),
        )
        # The bootstrap key's last moment of signing, recorded once: later rotations leave it as it was.
        repository.retire_signing_key(db_session=uow.session, row=RetiredSigningKey(
            kid=self.bootstrap.kid, retired_from=signs_from, retired_by=actor))
        publish(uow, SigningKeyRotated(kid=key.kid, signs_from=signs_from, actor=actor), tenant=PLATFORM,
                subject=key.kid)
        ring_key = RingKey(key, signs_from)
        with self._lock:
            self._keys = [
                RingKey(k.key, k.signs_from, k.retired_from or signs_from) if k.key is self.bootstrap else k
                for k in self._keys
            ] + [ring_key]
        return ring_key

    def describe(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Each published key with its state: pending, signing or retiring."""
        now = now or datetime.now(UTC)
        try:
            current: str | None = self.signing(now).kid
        except NoSigningKey:
            current = None
        return [
            {
                "kid": k.key.kid,
                "signs_from": None if k.signs_from == _EPOCH else k.signs_from,
                "state": "signing" if k.key.kid == current else ("pending" if k.signs_from > now else "retiring"),
            }
            for k in reversed(self.published(now))
        ]


class KeyRingRefresher(PeriodicWorker):
    """Reloads the ring from the registry every interval, so every replica learns of new keys."""

    name = "key-ring"

    def __init__(self, *, ring: KeyRing, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        super().__init__(interval=interval_seconds)
        self._ring = ring
        self._sessions = sessions

    def start(self) -> None:
        """Loads now (best effort: nothing signs until a load succeeds), then keeps reloading in the background."""
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

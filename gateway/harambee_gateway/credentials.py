"""Client secrets: generated at random, stored only as argon2 hashes."""

from __future__ import annotations

import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Each verification holds 64 MiB and several CPU threads; token requests run on a thread pool of
# dozens, so without a bound a burst of them could take gigabytes. Beyond the bound they queue.
_verifications = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))

# Verified against when a client id is unknown, so that an unknown id costs as much time as a
# wrong secret and response times do not reveal which client ids exist.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(32))


def new_client_id() -> str:
    """A fresh client id."""
    return "hc_" + secrets.token_urlsafe(16)


def new_client_secret() -> str:
    """A fresh client secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_secret(*, secret: str) -> str:
    """The argon2id hash of a secret."""
    return _hasher.hash(secret)


def verify_secret(*, secret_hash: str, secret: str) -> bool:
    """Whether secret matches secret_hash."""
    try:
        with _verifications:
            return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def spend_verification_time(*, secret: str) -> None:
    """Does the work of one verification against a decoy hash, for an unknown client id."""
    verify_secret(secret_hash=_DECOY_HASH, secret=secret)

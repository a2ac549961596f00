"""People's passwords: stored only as argon2id hashes, verified a bounded few at a time.

A person chooses their password, so it may be guessed from a dictionary: a memory-hard hash makes
each guess against a leaked table expensive. (Client secrets are ours, random: client_secrets.py.)
"""

from __future__ import annotations

import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Each verification holds 64 MiB and several CPU threads; sign-ins run on a thread pool of dozens,
# so without a bound a burst of them could take gigabytes. Beyond the bound they queue.
_verifications = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))

# Verified against when an account is unknown, disabled or locked, so that the time taken does not
# tell those apart from a wrong password.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(32))


def hash_password(*, password: str) -> str:
    """The argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(*, password_hash: str, password: str) -> bool:
    """Whether password matches password_hash."""
    try:
        with _verifications:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_verification_time(*, password: str) -> None:
    """Does the work of one verification against a decoy hash, for an account that cannot sign in."""
    verify_password(password_hash=_DECOY_HASH, password=password)

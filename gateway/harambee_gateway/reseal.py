"""Moving every sealed registry secret to a new key-encryption key, in one transaction.

What is sealed: rotated signing keys (bound to their kid), people's TOTP secrets (bound to the
person) and external directories' client secrets (bound to the tenant). Each is opened with the
previous root and sealed again under the new KEK; one already under the new KEK is left as it is,
so the command can be run again after an interruption. One that neither opens is reported, not
guessed at: the transaction is rolled back and nothing changes.

The previous root is the KEK being retired, or, for a registry an older version sealed, the
bootstrap signing key's private scalar (`secret_box.legacy_root`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from harambee_gateway import identity_providers, repository, signing, totp_secrets
from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox


class ResealFailed(Exception):
    """A sealed secret that neither the previous nor the new key opens."""


@dataclass(frozen=True)
class Resealed:
    """How many secrets of each kind were moved to the new KEK, and how many were there already."""

    signing_keys: int
    totp_secrets: int
    provider_secrets: int
    already: int


def reseal(*, db_session: Session, previous_root: bytes, key_encryption_key: bytes) -> Resealed:
    """Re-seals every registry secret under key_encryption_key; the caller commits."""
    already = 0

    def move(make_box: Callable[[bytes], SecretBox], sealed: bytes, bound_to: str, what: str) -> bytes | None:
        nonlocal already
        new_box = make_box(key_encryption_key)
        try:
            new_box.open(sealed, bound_to=bound_to)
            already += 1
            return None
        except SealedSecretUnreadable:
            pass
        try:
            secret = make_box(previous_root).open(sealed, bound_to=bound_to)
        except SealedSecretUnreadable as exc:
            raise ResealFailed(f"{what} opens under neither the previous nor the new key") from exc
        return new_box.seal(secret, bound_to=bound_to)

    keys = 0
    for row in repository.all_signing_keys_for_update(db_session=db_session):
        moved = move(signing.secret_box, row.encrypted_private_key, row.kid, f"signing key {row.kid}")
        if moved is not None:
            row.encrypted_private_key, keys = moved, keys + 1
    people = 0
    for person in repository.people_with_sealed_totp_secrets(db_session=db_session):
        assert person.encrypted_totp_secret is not None
        moved = move(totp_secrets.secret_box, person.encrypted_totp_secret, str(person.id),
                     f"the TOTP secret of person {person.id}")
        if moved is not None:
            person.encrypted_totp_secret, people = moved, people + 1
    providers = 0
    for provider in repository.all_identity_providers(db_session=db_session):
        moved = move(identity_providers.secret_box, provider.encrypted_client_secret, provider.tenant,
                     f"the client secret of {provider.tenant}'s directory")
        if moved is not None:
            provider.encrypted_client_secret, providers = moved, providers + 1
    db_session.flush()
    return Resealed(signing_keys=keys, totp_secrets=people, provider_secrets=providers, already=already)

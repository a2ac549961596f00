"""People's TOTP secrets, sealed under a key derived from the gateway's key-encryption key.

A database dump then holds no second factor in clear. Each secret is bound to its person's id, so
one copied into another person's row does not open there.

Secrets an older version stored in clear (people.totp_secret) are sealed when the gateway starts:
only the gateway process holds the key-encryption key, and migrations run with the owner's database URL
alone, so they cannot seal them. Until then sign-in reads the clear secret.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from harambee_gateway import repository
from harambee_gateway.models import Person
from harambee_gateway.secret_box import SecretBox

log = logging.getLogger(__name__)
SECRET_PURPOSE = b"harambee gateway TOTP secrets"


def secret_box(key_encryption_key: bytes, retired: tuple[bytes, ...] = ()) -> SecretBox:
    """The box that seals people's TOTP secrets, keyed from the gateway's key-encryption key."""
    return SecretBox(key_encryption_key, purpose=SECRET_PURPOSE, retired=retired)


def store(*, box: SecretBox, person: Person, secret: str) -> None:
    """Gives the person this secret, sealed; any clear one an older version left goes."""
    person.encrypted_totp_secret = box.seal(secret, bound_to=str(person.id))
    person.totp_secret = None


def secret_of(*, box: SecretBox, person: Person) -> str | None:
    """The person's secret in clear, None without one; SealedSecretUnreadable when sealed for someone else.

    A clear secret wins over a sealed one: only an older version writes it, so it is the newer.
    """
    if person.totp_secret is not None:
        return person.totp_secret
    if person.encrypted_totp_secret is None:
        return None
    return box.open(person.encrypted_totp_secret, bound_to=str(person.id))


def seal_clear_secrets(*, sessions: sessionmaker[Session], box: SecretBox) -> int:
    """Seals every secret still in clear, one committed row at a time; returns how many it sealed.

    Safe with several replicas starting at once: each row's update applies only while the row
    still holds the clear secret that was sealed, so a row sealed (or re-enrolled) meanwhile is
    left as it is.
    """
    with sessions() as db_session:
        clear = repository.clear_totp_secrets(db_session=db_session)
    sealed = 0
    for person_id, secret in clear:
        sealed_secret = box.seal(secret, bound_to=str(person_id))
        with sessions() as db_session, db_session.begin():
            if repository.replace_clear_totp_secret(
                db_session=db_session, person_id=person_id, clear=secret, sealed=sealed_secret
            ):
                sealed += 1
    return sealed


def seal_clear_secrets_at_startup(*, sessions: sessionmaker[Session], box: SecretBox) -> None:
    """Seals the clear secrets now, best effort: the gateway starts even with the database away."""
    try:
        sealed = seal_clear_secrets(sessions=sessions, box=box)
    except SQLAlchemyError as exc:  # sign-in still reads clear secrets; the next start seals them
        log.warning("clear TOTP secrets not sealed yet: %s", type(exc).__name__)
        return
    if sealed:
        log.info("sealed %d TOTP secret(s) left in clear by an older version", sealed)

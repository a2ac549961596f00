"""One-time enrolments: how a person gets a new password or second factor without anyone else seeing it.

An administrator (a person, or the client-credentials admin client used for provisioning) never
receives anyone's password or TOTP secret. A reset issues an enrolment: a single-use link for the
person, valid for ENROLMENT_TTL, kept in the registry only as a hash of its token. The person opens
it and sets their own password and/or second factor; the old ones stop working at that moment, not
when the link is issued (so a link that reaches the wrong hands is noticed by a person whose password
stops working, and the issue and the use are both recorded events). A newer enrolment replaces an
open one.

Functions here never commit; the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed, or_not_found
from harambee_gateway import passwords, repository, signin
from harambee_gateway.events import PLATFORM, publish
from harambee_gateway.models import Enrolment
from harambee_gateway.secret_box import SecretBox

ENROLMENT_TTL = timedelta(hours=72)
ENROLMENT_PATH = "/enrol"
UNUSABLE = "This enrolment link is not valid: it was used, replaced by a newer one, or has expired."


@dataclass(frozen=True)
class Issued:
    """An enrolment and its token (the token exists only here and in the link sent to the person)."""

    enrolment: Enrolment
    token: str


@dataclass(frozen=True)
class Completed:
    """What a person set with their enrolment; the TOTP secret is shown to them once."""

    person_id: uuid.UUID
    username: str
    totp_secret: str | None
    otpauth_uri: str | None


def token_hash(token: str) -> str:
    """What the registry keeps of a token: its SHA-256 (the token has 256 bits, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def link(*, issuer: str, token: str) -> str:
    """The link sent to the person: the token in the fragment, which browsers never send to a server."""
    return f"{issuer.rstrip('/')}{ENROLMENT_PATH}#{token}"


def issue(*, uow: UnitOfWork, person_id: uuid.UUID, password: bool, second_factor: bool, actor: str) -> Issued:
    """Issues a one-time enrolment for the person, replacing any open one; publishes the issue."""
    if not (password or second_factor):
        raise ValidationFailed("An enrolment sets a password, a second factor, or both.")
    person = or_not_found(repository.get_person(db_session=uow.session, person_id=person_id), "No such person.")
    now = datetime.now(UTC)
    repository.supersede_open_enrolments(db_session=uow.session, person_id=person.id, at=now)
    token = secrets.token_urlsafe(32)
    enrolment = Enrolment(id=uuid.uuid4(), person_id=person.id, token_hash=token_hash(token), password=password,
                          second_factor=second_factor, created_by=actor, created_at=now,
                          expires_at=now + ENROLMENT_TTL)
    repository.add(db_session=uow.session, row=enrolment)
    publish(uow, catalogue.PersonEnrolmentIssued(
        person_id=person.id, enrolment_id=enrolment.id, password=password, second_factor=second_factor,
        expires_at=enrolment.expires_at, actor=actor), tenant=PLATFORM, subject=str(person.id))
    return Issued(enrolment=enrolment, token=token)


def complete(*, uow: UnitOfWork, box: SecretBox, token: str, new_password: str | None) -> Completed:
    """Uses an enrolment once: sets the person's new password and/or a new TOTP secret (returned once)."""
    hashed = token_hash(token)
    now = datetime.now(UTC)
    pending = repository.get_open_enrolment(db_session=uow.session, token_hash=hashed, now=now)
    if pending is None:
        raise NotFound(UNUSABLE)
    # Checked before the link is spent: a missing password does not cost the person their link.
    if pending.password and new_password is None:
        raise ValidationFailed("This enrolment sets a new password: give one (at least 12 characters).")
    if not pending.password and new_password is not None:
        raise ValidationFailed("This enrolment does not set a password.")
    enrolment = repository.claim_enrolment(db_session=uow.session, token_hash=hashed, now=now)
    if enrolment is None:  # another request spent it meanwhile
        raise NotFound(UNUSABLE)
    person = or_not_found(repository.get_person(db_session=uow.session, person_id=enrolment.person_id),
                          "No such person.")
    if new_password is not None:
        person.password_hash = passwords.hash_password(password=new_password)
        person.failed_sign_ins, person.locked_until = 0, None
    secret = uri = None
    if enrolment.second_factor:
        secret, uri = signin.enrol_totp(db_session=uow.session, box=box, person_id=person.id)
    uow.session.flush()
    publish(uow, catalogue.PersonEnrolmentCompleted(
        person_id=person.id, enrolment_id=enrolment.id, password=enrolment.password,
        second_factor=enrolment.second_factor, actor=str(person.id)), tenant=PLATFORM, subject=str(person.id))
    return Completed(person_id=person.id, username=person.username, totp_secret=secret, otpauth_uri=uri)

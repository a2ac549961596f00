"""Consent: recorded with who gave it, for what and for whom, how it is evidenced, until when.

Consent to support is separate from the lawful basis for sharing data (DOMAIN.md): these records
are the former. Withdrawal is one call; it raises `consent.withdrawn`, on which every service stops the
work that depended on it. Events carry codes and references only: the recipients, as the officer wrote
them, and the giver's name, evidence and notes stay in intake.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from harambee_common.agreements import agreements_of
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed, or_not_found
from harambee_intake.consent import repository
from harambee_intake.consent.schemas import ConsentIn, WithdrawalIn
from harambee_intake.events import EVENTS
from harambee_intake.models import Consent, Subject
from harambee_intake.problems import InvalidState, UnknownCode
from harambee_intake.schema_types import age_on, aware
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects import service as subjects
from harambee_intake.vault import Vault
from harambee_intake.vocabularies import service as vocabularies

FOR_A_MINOR = ("parent", "guardian")
VIEW_FIELDS = ("given_by", "giver_name", "purposes", "recipients", "method", "given_at", "expires_at",
               "evidence", "note", "withdrawal")


@dataclass(frozen=True)
class ConsentRecord:
    """A consent with its sealed parts opened."""

    consent: Consent
    subject_ref: uuid.UUID
    opened: dict[str, Any]


def record(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID, consent_in: ConsentIn
) -> ConsentRecord:
    """Records a consent; a minor's must come from a parent or guardian."""
    subject = _live_subject(uow, subject_id)
    now = datetime.now(UTC)
    _check(uow, vault, subject, consent_in, now=now)
    consent_id = uuid.uuid4()
    key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    consent = Consent(
        id=consent_id, tenant_id=uow.tenant, subject_id=subject.id, given_by=consent_in.given_by,
        purposes=consent_in.purposes, recipients=consent_in.recipients, method=consent_in.method,
        given_at=consent_in.given_at, expires_at=consent_in.expires_at,
        sealed=key.seal({"giver_name": consent_in.giver_name, "evidence": consent_in.evidence,
                         "note": consent_in.note}, context=f"consent:{consent_id}"),
        recorded_by=principal.actor, recorded_at=now,
    )
    repository.add_consent(session=uow.session, consent=consent)
    EVENTS.publish(uow, ConsentRecorded(
        consent_id=consent.id, subject_ref=subject.id, given_by=consent_in.given_by, purposes=consent.purposes,
        given_at=consent.given_at, expires_at=consent.expires_at, actor=principal.actor,
        recipient_organisations=sorted(set(consent.recipients) & _agreement_organisations(uow)),
    ), subject=str(subject.id))
    return ConsentRecord(consent=consent, subject_ref=subject.id,
                         opened={"giver_name": consent_in.giver_name, "evidence": consent_in.evidence,
                                 "note": consent_in.note})


def list_for(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID
) -> list[ConsentRecord]:
    """The consents of a person (including subjects merged into theirs); the read is recorded first."""
    found = subjects.history(uow=uow, subject_id=subject_id)
    consents = repository.consents_of(session=uow.session, subject_ids=found.members)
    EVENTS.record_access(uow, principal=principal, subject=str(found.subject_ref),
                         resource=f"subject/{found.subject_ref}/consents", fields=VIEW_FIELDS, purpose="consent")
    return [_opened(uow, vault, c) for c in consents]


def withdraw(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, subject_id: uuid.UUID, consent_id: uuid.UUID,
    withdrawal: WithdrawalIn,
) -> ConsentRecord:
    """Withdraws a consent at once and tells every service, through `consent.withdrawn`."""
    consent = repository.lock_consent(session=uow.session, consent_id=consent_id)
    members = subjects.history(uow=uow, subject_id=subject_id).members
    if consent is None or consent.subject_id not in members:
        raise NotFound("No such consent.")
    if consent.withdrawn_at is not None:
        raise InvalidState("This consent was already withdrawn.", withdrawn_at=consent.withdrawn_at.isoformat())
    now = datetime.now(UTC)
    consent.withdrawn_at, consent.withdrawn_by = now, withdrawal.withdrawn_by
    consent.withdrawal_method, consent.withdrawal_recorded_by = withdrawal.method, principal.actor
    if withdrawal.note:
        subject = _live_subject(uow, consent.subject_id)
        key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        consent.sealed = {**(consent.sealed or {}),
                          **key.seal({"withdrawal_note": withdrawal.note}, context=f"consent:{consent.id}")}
    EVENTS.publish(uow, ConsentWithdrawn(
        consent_id=consent.id, subject_ref=consent.subject_id, purposes=consent.purposes,
        withdrawn_at=now, withdrawn_by=withdrawal.withdrawn_by, actor=principal.actor,
    ), subject=str(consent.subject_id))
    return _opened(uow, vault, consent)


def _check(uow: UnitOfWork, vault: Vault, subject: Subject, consent_in: ConsentIn, *, now: datetime) -> None:
    purposes = vocabularies.one(uow=uow, name="consent_purposes")
    errors = [{"location": ["body", "purposes", i], "message": f"{code!r} is not in the tenant's list",
               "type": "unknown_code"} for i, code in enumerate(consent_in.purposes) if code not in purposes.codes]
    if errors:
        raise UnknownCode("Some purposes are not in the tenant's consent_purposes list.", errors=errors)
    given_at = aware(consent_in.given_at)
    if given_at > now:
        raise ValidationFailed("Consent cannot be given in the future.")
    if consent_in.expires_at is not None and aware(consent_in.expires_at) <= given_at:
        raise ValidationFailed("A consent must expire after it was given.")
    if consent_in.given_by != "person" and not consent_in.giver_name:
        raise ValidationFailed("Name who gave consent for the person (giver_name).")
    if consent_in.given_by not in FOR_A_MINOR and _minor_at(uow, vault, subject, given_at.date()):
        raise ValidationFailed("The person was a minor: consent must come from a parent or guardian.",
                               errors=[{"location": ["body", "given_by"], "message": "a minor's consent",
                                        "type": "minor"}])


def _minor_at(uow: UnitOfWork, vault: Vault, subject: Subject, day: date) -> bool:
    """Whether the person was under 18 on a day: from the date of birth, else from the referrals."""
    key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
    born = subjects.open_identity(key, subject=subject).get("date_of_birth")
    if born:
        birth = date.fromisoformat(born)
        return age_on(birth, day) < 18
    members = subjects.history(uow=uow, subject_id=subject.id).members
    return repository.any_minor_referral(session=uow.session, subject_ids=members)


def _live_subject(uow: UnitOfWork, subject_id: uuid.UUID) -> Subject:
    subject = or_not_found(subjects_repository.get_subject(session=uow.session, subject_id=subject_id),
                           "No such subject.")
    if subject.wrapped_key is None:
        raise InvalidState("This person's data has been erased.")
    return subject


def _opened(uow: UnitOfWork, vault: Vault, consent: Consent) -> ConsentRecord:
    opened: dict[str, Any] = {}
    subject = subjects_repository.get_subject(session=uow.session, subject_id=consent.subject_id)
    if consent.sealed and subject is not None and subject.wrapped_key is not None:
        key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        opened = key.open(consent.sealed, context=f"consent:{consent.id}")
    return ConsentRecord(consent=consent, subject_ref=consent.subject_id, opened=opened)


def _agreement_organisations(uow: UnitOfWork) -> set[str]:
    """The registry ids of the organisations party to the tenant's agreements: recipients named by id, not words."""
    return {p["id"] for a in agreements_of(session=uow.session) for p in a.terms.get("parties", ())
            if p["kind"] == "organisation"}

"""Consent to support (lifecycle step 6), as intake records it.

Adoption by the panel does not start support: the case waits in `awaiting_consent` until intake holds
an active consent for the purpose `support` (given by the person, or a parent or guardian for a minor),
and then `case.consented` tells interventions it may start. Assessment keeps the references of intake's
support consents (from `consent.recorded` and `consent.withdrawn`), so a consent given before the
panel's decision counts as soon as the case is adopted. Consents of any purpose that name organisations
are kept for agreements that require consent to disclose (sharing.py).

Withdrawal stops everything at once: each case of the person still being worked becomes `withdrawn`
(`case.withdrawn`), and from then on only compliance officers read it (access.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from harambee_assessment import repository, sharing
from harambee_assessment.assessments import repository as assessments
from harambee_assessment.events import EVENTS
from harambee_assessment.models import Case, SupportConsent
from harambee_assessment.reassessments import service as reassessments
from harambee_common.catalogue.assessment import CaseConsented, CaseWithdrawn
from harambee_common.catalogue.intake import ConsentRecorded, ConsentWithdrawn
from harambee_common.db import UnitOfWork

# The code of intake's consent_purposes list that consent to support is recorded under.
SUPPORT = "support"
# The statuses a withdrawal ends: every case of the person still being worked.
WITHDRAWABLE = ("open", "awaiting_consent", "consented")


def consent_recorded(*, uow: UnitOfWork, consent: ConsentRecorded) -> None:
    """Keeps a support consent's references; the person's adopted cases waiting for it become consented."""
    sharing.consent_recorded(uow=uow, consent=consent)
    if SUPPORT not in consent.purposes:
        return
    uow.session.execute(insert(SupportConsent).values(
        consent_id=consent.consent_id, tenant_id=uow.tenant, subject_ref=consent.subject_ref,
        given_by=consent.given_by, given_at=consent.given_at, expires_at=consent.expires_at,
    ).on_conflict_do_nothing())
    if consent.expires_at is not None and consent.expires_at <= consent.given_at:
        return
    waiting = repository.active_cases_of_subject(session=uow.session, subject_ref=consent.subject_ref,
                                                 statuses=("awaiting_consent",))
    for case in waiting:
        consented(uow=uow, case=case, consent_id=consent.consent_id, given_by=consent.given_by, at=consent.given_at)


def consent_withdrawn(*, uow: UnitOfWork, withdrawal: ConsentWithdrawn) -> None:
    """Consent to support was withdrawn: each case of the person still being worked is withdrawn at once."""
    sharing.consent_withdrawn(uow=uow, consent_id=withdrawal.consent_id, at=withdrawal.withdrawn_at)
    if SUPPORT not in withdrawal.purposes:
        return
    uow.session.execute(sa.update(SupportConsent).where(SupportConsent.consent_id == withdrawal.consent_id)
                        .values(withdrawn_at=withdrawal.withdrawn_at))
    for case in repository.active_cases_of_subject(session=uow.session, subject_ref=withdrawal.subject_ref,
                                                   statuses=WITHDRAWABLE):
        case.status, case.closed_at, case.consent_id = "withdrawn", withdrawal.withdrawn_at, withdrawal.consent_id
        reassessments.clear_due(case=case)
        EVENTS.publish(uow, CaseWithdrawn(case_id=case.id, subject_ref=case.subject_ref,
                                          consent_id=withdrawal.consent_id, withdrawn_at=withdrawal.withdrawn_at),
                       subject=str(case.subject_ref))


def await_consent(*, uow: UnitOfWork, case: Case, at: datetime) -> None:
    """The panel adopted the case: consented at once if the person's support consent is active, else waiting."""
    if case.status == "consented":
        return  # adopted again at a review: the consent it rests on still stands
    case.status = "awaiting_consent"
    active = uow.session.scalar(
        sa.select(SupportConsent).where(
            SupportConsent.subject_ref == case.subject_ref, SupportConsent.withdrawn_at.is_(None),
            sa.or_(SupportConsent.expires_at.is_(None), SupportConsent.expires_at > at),
        ).order_by(SupportConsent.given_at.desc()).limit(1)
    )
    if active is not None:
        consented(uow=uow, case=case, consent_id=active.consent_id, given_by=active.given_by, at=at)


def consented(*, uow: UnitOfWork, case: Case, consent_id: uuid.UUID, given_by: str, at: datetime) -> None:
    """Marks an adopted case consented and tells interventions, with the needs of the assessment decided on."""
    approved = assessments.approved_of(session=uow.session, case_id=case.id)
    if approved is None:  # adoption needs an approved assessment, so this cannot be; never consent without one
        return
    case.status, case.consent_id = "consented", consent_id
    EVENTS.publish(uow, CaseConsented(case_id=case.id, subject_ref=case.subject_ref, consent_id=consent_id,
                                      given_by=given_by, needs=sorted(approved.needs), assessment_id=approved.id,
                                      consented_at=at), subject=str(case.subject_ref))

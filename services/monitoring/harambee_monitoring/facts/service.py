"""What each catalogued event adds to the read model: its codes and dates, never its references to a person."""

from __future__ import annotations

from datetime import datetime

from harambee_common.catalogue import assessment as a
from harambee_common.catalogue import intake as i
from harambee_common.catalogue import interventions as iv
from harambee_common.db import UnitOfWork
from harambee_monitoring.facts import repository
from harambee_monitoring.facts.repository import EARLIEST, FIRST

# Follow-ups are counted at the reviews the programme schedules (DOMAIN.md: 6 and 12 months after exit).
FOLLOW_UP_COLUMNS = {6: "follow_up_6", 12: "follow_up_12"}
# What a reassessment's event says of concerns and strengths apart (catalogue.assessment.AssessmentApproved).
KIND_COUNTS = ("concerns_compared", "concerns_down", "concerns_up", "strengths_compared", "strengths_up",
               "strengths_down")


def referral_received(*, uow: UnitOfWork, data: i.ReferralReceived) -> None:
    """A referral arrived: who referred, and about whom in codes."""
    repository.record_referral(
        session=uow.session, tenant=uow.tenant, referral_id=data.referral_id, received_at=data.received_at,
        source_type=data.source_type, age_band=data.age_band, gender=data.gender, is_minor=data.is_minor,
        concern_types=data.concern_types, indicators=data.indicators, repeat_referral=data.repeat_referral,
    )


def referral_screened(*, uow: UnitOfWork, data: i.ReferralScreened) -> None:
    """A referral was screened, with its outcome."""
    repository.record_referral(session=uow.session, tenant=uow.tenant, referral_id=data.referral_id,
                               screened_at=data.screened_at, screening_outcome=data.outcome)


def case_opened(*, uow: UnitOfWork, data: a.CaseOpened) -> None:
    """A case was opened for an accepted referral: the link between the two."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           referral_id=data.referral_id, opened_at=data.opened_at)


def assessment_approved(*, uow: UnitOfWork, data: a.AssessmentApproved) -> None:
    """An assessment was approved: the case's first counts as assessed; a later one measures change."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           assessed_at=data.approved_at, keep={"assessed_at": FIRST})
    if data.supersedes is not None and data.items_compared > 0:
        repository.add_reassessment(
            session=uow.session, tenant=uow.tenant, assessment_id=data.assessment_id, case_id=data.case_id,
            approved_at=data.approved_at, items_compared=data.items_compared,
            items_improved=data.items_improved, items_worsened=data.items_worsened,
            **{k: getattr(data, k) for k in KIND_COUNTS},
        )


def panel_decided(*, uow: UnitOfWork, data: a.CaseAdopted | a.CaseDeclined | a.CaseSignposted | a.CaseEscalated,
                  outcome: str) -> None:
    """The panel decided the case (its first decision is the one the funnel counts)."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           decided_at=data.decided_at, decision=outcome,
                           keep={"decided_at": FIRST, "decision": FIRST})


def case_consented(*, uow: UnitOfWork, data: a.CaseConsented) -> None:
    """The adopted case holds consent to support."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           consented_at=data.consented_at, keep={"consented_at": FIRST})


def case_withdrawn(*, uow: UnitOfWork, data: a.CaseWithdrawn) -> None:
    """Consent to support was withdrawn."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           withdrawn_at=data.withdrawn_at)


def plan_versioned(*, uow: UnitOfWork, data: iv.PlanVersioned) -> None:
    """A plan version: when support was first planned, and the intervention types it uses now."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           planned_at=data.versioned_at, intervention_types=data.intervention_types,
                           keep={"planned_at": EARLIEST})


def session_recorded(*, uow: UnitOfWork, data: iv.SessionRecorded) -> None:
    """A session held: the earliest attended one is the case's first session."""
    if data.attended:
        repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                               first_session_on=data.held_on, keep={"first_session_on": EARLIEST})


def case_transferred_in(*, uow: UnitOfWork, data: a.TransferAccepted) -> None:
    """This county took a case over from another (the receiver's step): counted here from that moment."""
    if data.raised_by(uow.tenant, side="receiver"):
        repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.received_case_id,
                               opened_at=data.opened_at, transferred_in_at=data.opened_at,
                               keep={"transferred_in_at": FIRST})


def case_transferred_out(*, uow: UnitOfWork, data: a.CaseTransferred, at: datetime) -> None:
    """This county let a case go to another (the sender's step, at the event's time): its history here ends."""
    if data.raised_by(uow.tenant, side="sender"):
        repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id, transferred_out_at=at,
                               keep={"transferred_out_at": FIRST})


def case_closed(*, uow: UnitOfWork, data: iv.CaseClosed) -> None:
    """Support ended, with the exit reason."""
    repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                           closed_at=data.closed_at, exit_reason=data.exit_reason)


def follow_up_recorded(*, uow: UnitOfWork, data: iv.FollowUpRecorded) -> None:
    """A follow-up after exit: the 6- and 12-month reviews are counted (others are the case's own business)."""
    column = FOLLOW_UP_COLUMNS.get(data.months_after_exit)
    if column is not None:
        repository.record_case(session=uow.session, tenant=uow.tenant, case_id=data.case_id,
                               **{column: data.outcome})

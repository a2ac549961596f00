"""A referral's life as the services publish it, built from the catalogue, and handed to monitoring's consumer.

`Journey` produces the events intake, assessment and interventions publish for one person's referral, step
by step, with the dates the test chooses; `deliver` hands them to the running app as the broker would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from harambee_common.catalogue import assessment as a
from harambee_common.catalogue import intake as i
from harambee_common.catalogue import interventions as iv
from harambee_common.catalogue.base import EventData
from harambee_common.components import ASSESSMENT, INTAKE, INTERVENTIONS
from harambee_common.event_source import EventSource
from harambee_common.events import Event

SOURCES = {i.TOPIC: EventSource.of(INTAKE), a.TOPIC: EventSource.of(ASSESSMENT),
           iv.TOPIC: EventSource.of(INTERVENTIONS)}


def consumer(client):
    """The running app's event consumer."""
    return next(w for w in client.app.state.workers if hasattr(w, "apply"))


def deliver(client, event: Event) -> bool:
    """Hands an event to the app's consumer, as the broker would; returns whether it was applied now."""
    return consumer(client).apply(event.topic, event.headers(), event.value())


@dataclass
class Journey:
    """One referral and, step by step, what happened to it; `events` are what the services published."""

    tenant: str
    received_at: datetime
    source_type: str = "education"
    age_band: str | None = "15_17"
    gender: str | None = "male"
    is_minor: bool | None = True
    indicators: list[str] = field(default_factory=lambda: ["sudden_withdrawal"])
    concern_types: list[str] = field(default_factory=lambda: ["behaviour"])
    repeat: bool = False
    referral_id: uuid.UUID = field(default_factory=uuid.uuid4)
    subject_ref: uuid.UUID = field(default_factory=uuid.uuid4)
    case_id: uuid.UUID = field(default_factory=uuid.uuid4)
    assessment_id: uuid.UUID = field(default_factory=uuid.uuid4)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._add(i.ReferralReceived(
            referral_id=self.referral_id, subject_ref=self.subject_ref, source_type=self.source_type,
            organisation=None, received_at=self.received_at, repeat_referral=self.repeat, age_band=self.age_band,
            is_minor=self.is_minor, gender=self.gender, indicators=self.indicators, concern_types=self.concern_types))

    def _add(self, data: EventData) -> Journey:
        self.events.append(SOURCES[data.topic].event(data, tenant=self.tenant, subject=str(self.subject_ref)))
        return self

    def at(self, days: float) -> datetime:
        return self.received_at + timedelta(days=days)

    def screened(self, outcome: str, *, days: float = 1) -> Journey:
        self._add(i.ReferralScreened(referral_id=self.referral_id, subject_ref=self.subject_ref, outcome=outcome,
                                     screened_at=self.at(days), time_to_screen_seconds=int(days * 86400)))
        if outcome == "accept":
            self._add(a.CaseOpened(case_id=self.case_id, subject_ref=self.subject_ref, referral_id=self.referral_id,
                                   opened_at=self.at(days)))
        return self

    def assessed(self, *, days: float = 10, supersedes: uuid.UUID | None = None, compared: int = 0,
                 improved: int = 0, worsened: int = 0, **by_kind: int) -> Journey:
        """An approved assessment; a reassessment gives its item counts (and `by_kind`: concerns_down, ...)."""
        assessment_id = self.assessment_id if supersedes is None else uuid.uuid4()
        return self._add(a.AssessmentApproved(
            assessment_id=assessment_id, case_id=self.case_id, subject_ref=self.subject_ref,
            framework_id=uuid.uuid4(), framework_version=1, needs=["education"], supersedes=supersedes,
            items_compared=compared, items_improved=improved, items_worsened=worsened, approved_at=self.at(days),
            **by_kind))

    def decided(self, outcome: str, *, days: float = 20) -> Journey:
        common = {"decision_id": uuid.uuid4(), "case_id": self.case_id, "subject_ref": self.subject_ref,
                  "meeting_id": uuid.uuid4(), "assessment_id": self.assessment_id, "decided_at": self.at(days),
                  "dissent_count": 0}
        model = {"adopt": a.CaseAdopted(**common, next_review_on=self.at(days + 90).date()),
                 "decline": a.CaseDeclined(**common),
                 "signpost": a.CaseSignposted(**common, signposted_to="youth_services"),
                 "escalate": a.CaseEscalated(**common, escalated_to="police")}[outcome]
        return self._add(model)

    def consented(self, *, days: float = 25) -> Journey:
        return self._add(a.CaseConsented(case_id=self.case_id, subject_ref=self.subject_ref, consent_id=uuid.uuid4(),
                                         given_by="parent", needs=["education"], assessment_id=self.assessment_id,
                                         consented_at=self.at(days)))

    def withdrawn(self, *, days: float = 40) -> Journey:
        return self._add(a.CaseWithdrawn(case_id=self.case_id, subject_ref=self.subject_ref, consent_id=uuid.uuid4(),
                                         withdrawn_at=self.at(days)))

    def planned(self, *, days: float = 27, types: tuple[str, ...] = ("mentoring",)) -> Journey:
        return self._add(iv.PlanVersioned(plan_id=uuid.uuid4(), case_id=self.case_id, subject_ref=self.subject_ref,
                                          version=1, intervention_types=sorted(types), needs=["education"],
                                          items=len(types), versioned_at=self.at(days)))

    def session(self, *, days: float = 30, attended: bool = True) -> Journey:
        return self._add(iv.SessionRecorded(
            session_id=uuid.uuid4(), task_id=uuid.uuid4(), case_id=self.case_id, subject_ref=self.subject_ref,
            provider=uuid.uuid4(), intervention_type="mentoring", held_on=self.at(days).date(), duration_minutes=60,
            attended=attended, recorded_at=self.at(days)))

    def closed(self, reason: str = "vulnerability_removed", *, days: float = 120) -> Journey:
        closed = self.at(days)
        return self._add(iv.CaseClosed(case_id=self.case_id, subject_ref=self.subject_ref, exit_reason=reason,
                                       follow_ups_due=[_months_after(closed.date(), n) for n in (6, 12)],
                                       closed_at=closed))

    def followed_up(self, months: int, outcome: str = "doing_well", *, days: float = 300) -> Journey:
        return self._add(iv.FollowUpRecorded(
            follow_up_id=uuid.uuid4(), case_id=self.case_id, subject_ref=self.subject_ref, months_after_exit=months,
            outcome=outcome, in_education_or_work=True, re_referred=False, recorded_at=self.at(days)))

    def transferred_out(self, to: str, *, days: float = 15, sender: str | None = None) -> Journey:
        """The sending county let the case go to another (`case.transferred`, raised then in its own log; `sender`
        names another county as the sender, for a forgery)."""
        self._add(a.CaseTransferred(transfer_id=uuid.uuid4(), case_id=self.case_id, subject_ref=self.subject_ref,
                                    from_tenant=sender or self.tenant, to=to, retained=[]))
        self.events[-1] = replace(self.events[-1], time=self.at(days))
        return self

    def supported(self) -> Journey:
        """Accepted, assessed, adopted, consented, planned and with a first session."""
        return self.screened("accept").assessed().decided("adopt").consented().planned().session()

    def deliver_to(self, client) -> Journey:
        for event in self.events:
            assert deliver(client, event), event.type
        return self


def taken_over(tenant: str, *, sender: str, at: datetime) -> Journey:
    """A case another county transferred to `tenant`, accepted there at `at` (`case.transfer_accepted`, in the
    receiver's log): a journey of the new case, with no referral of its own here."""
    journey = Journey(tenant, at)
    journey.events.clear()
    return journey._add(a.TransferAccepted(
        transfer_id=uuid.uuid4(), case_id=uuid.uuid4(), subject_ref=journey.subject_ref, from_tenant=sender,
        to=tenant, reason="relocation", actor="manager", received_case_id=journey.case_id, opened_at=at,
        agreement_id=uuid.uuid4(), agreement_version=1))


def _months_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def manager(issuer, tenant: str) -> dict[str, str]:
    """A county programme manager's headers."""
    return issuer.headers(tenants={tenant: ["programme_manager"]}, scope="aggregates:read", sub=f"manager-{tenant}")


def coordinator(issuer, tenant: str = "ke-national") -> dict[str, str]:
    """A national coordinator's headers."""
    return issuer.headers(tenants={tenant: ["national_coordinator"]}, scope="aggregates:read",
                          sub="national-coordinator")

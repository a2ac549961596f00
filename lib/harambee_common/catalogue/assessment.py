"""Events published on `assessment.events` by the assessment service: cases and their transfer between counties;
information requests, frameworks, assessments, the panel's decisions and consent to support (lifecycle steps 3-6).

A transfer's steps are published in the log of the county that took them (see
`harambee_assessment.transfers`), and each county learns of the other's from this topic. They carry
references and codes only: the notes counties write about a transfer stay with the county that wrote them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from harambee_common.catalogue.base import EventData, event_type
from harambee_common.catalogue.intake import Giver

TOPIC = "assessment.events"

TransferReason = Literal["relocation", "closer_to_support", "other"]
RefusalReason = Literal["not_resident", "duplicate_case", "insufficient_information", "no_capacity", "other"]
# What an agreement may let the sender keep of a transferred case, beyond its id, status and dates.
Retainable = Literal["referral_id", "subject_ref"]


@event_type("case.opened", topic=TOPIC)
class CaseOpened(EventData):
    """A case was opened for an accepted referral: interventions starts to know it."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    referral_id: uuid.UUID
    """The referral the case was opened for."""
    opened_at: datetime
    """When the case was opened."""


class _Transfer(EventData):
    """References of one case transfer between two counties."""

    # `from` is a Python keyword: the field travels under that name all the same.
    model_config = ConfigDict(populate_by_name=True)

    transfer_id: uuid.UUID
    """The transfer (both counties' sides share its id)."""
    case_id: uuid.UUID
    """The case in the sending county."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference (the same in both counties)."""
    from_tenant: str = Field(alias="from")
    """The sending county."""
    to: str
    """The receiving county."""

    def dump(self) -> dict[str, Any]:
        """The data, under the names it travels with (`from`)."""
        return self.model_dump(mode="json", by_alias=True)

    def raised_by(self, tenant: str, *, side: Literal["sender", "receiver"]) -> bool:
        """Whether an event raised in `tenant` comes from the county on the side it claims, between two counties.

        Consumers act on a transfer step only from the county whose step it is: an event raised
        elsewhere that names other counties moves nothing.
        """
        claimed = self.from_tenant if side == "sender" else self.to
        return tenant == claimed and self.from_tenant != self.to


class TransferStep(_Transfer):
    """A step of a transfer, with the reason the sending county gave for it."""

    reason: TransferReason
    """Why the sending county proposed it (a code)."""


@event_type("case.transfer_proposed", topic=TOPIC)
class TransferProposed(TransferStep):
    """The sending county proposed that another county take a case over, under an agreement in force (sender's log)."""

    actor: str
    """Who proposed it: the token's subject."""
    agreement_id: uuid.UUID
    """The sending county's agreement that permits the transfer."""
    agreement_version: int
    """That agreement's version."""
    proposed_at: datetime
    """When it was proposed."""


@event_type("case.transfer_received", topic=TOPIC)
class TransferReceived(TransferStep):
    """The receiving county recorded a proposed transfer, awaiting its answer (receiver's log)."""


@event_type("case.transfer_accepted", topic=TOPIC)
class TransferAccepted(TransferStep):
    """The receiving county took the case over and opened its own case (receiver's log): the person moves."""

    actor: str
    """Who accepted it: the token's subject."""
    received_case_id: uuid.UUID
    """The receiving county's new case."""
    opened_at: datetime
    """When the new case was opened."""
    agreement_id: uuid.UUID
    """The sending county's agreement the transfer was accepted under."""
    agreement_version: int
    """That agreement's version."""


@event_type("case.transfer_refused", topic=TOPIC)
class TransferRefused(TransferStep):
    """The receiving county declined the transfer (receiver's log); the sender's case stays open."""

    actor: str
    """Who refused it: the token's subject."""
    decision_reason: RefusalReason
    """Why it was refused (a code)."""


@event_type("case.transfer_refusal_recorded", topic=TOPIC)
class TransferRefusalRecorded(TransferStep):
    """The sending county recorded the refusal (sender's log); its case may be proposed again."""

    decision_reason: RefusalReason
    """Why the receiving county refused it (a code)."""


@event_type("case.transferred", topic=TOPIC)
class CaseTransferred(_Transfer):
    """The sending county closed its case as transferred and minimised it (sender's log)."""

    retained: list[Retainable]
    """The fields the agreement let the sender keep beyond the minimum, sorted (empty: none)."""


# The assessment-to-interventions contract: what interventions needs to plan support, and what M&E counts.
# Codes only: reasons, conclusions and dissent stay in the assessment service.

# A need is an item code of the tenant's needs screen (e.g. `education`, `mental_health`).
NeedCode = str
PanelOutcome = Literal["adopt", "decline", "signpost", "escalate"]


@event_type("assessment.approved", topic=TOPIC)
class AssessmentApproved(EventData):
    """An assessment was approved (four eyes where the tenant asks for them): its needs can be planned for."""

    assessment_id: uuid.UUID
    """The assessment."""
    case_id: uuid.UUID
    """Its case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    framework_id: uuid.UUID
    """The framework it was made with."""
    framework_version: int
    """That framework's version."""
    needs: list[NeedCode]
    """The needs it identifies: item codes of the tenant's needs screen, sorted."""
    supersedes: uuid.UUID | None
    """The previously approved assessment of the case that this one replaces, if any."""
    items_compared: int
    """Items rated in both this and the superseded assessment (0 for a first assessment)."""
    items_improved: int
    """Of those, the items that improved: a concern rated lower or a strength rated higher."""
    items_worsened: int
    """Of those, the items that worsened."""
    concerns_compared: int | None = None
    """Of the items compared, those in a concerns domain (None: published before the counts by kind were)."""
    concerns_down: int | None = None
    """Of those, the concerns rated lower (an improvement)."""
    concerns_up: int | None = None
    """Of those, the concerns rated higher."""
    strengths_compared: int | None = None
    """Of the items compared, those in a strengths domain (protective factors and resources)."""
    strengths_up: int | None = None
    """Of those, the strengths rated higher (an improvement)."""
    strengths_down: int | None = None
    """Of those, the strengths rated lower."""
    approved_at: datetime
    """When it was approved."""


class _PanelDecision(EventData):
    """A panel's decision on one case of its agenda (the reasons and any dissent stay in assessment)."""

    decision_id: uuid.UUID
    """The decision."""
    case_id: uuid.UUID
    """The case decided."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    meeting_id: uuid.UUID
    """The panel meeting that decided it."""
    assessment_id: uuid.UUID
    """The approved assessment the decision rests on."""
    decided_at: datetime
    """When it was decided."""
    dissent_count: int
    """How many members recorded dissent."""


@event_type("case.adopted", topic=TOPIC)
class CaseAdopted(_PanelDecision):
    """The panel adopted the case: it waits for consent to support before any work starts."""

    next_review_on: date
    """When the panel reviews the case next."""


@event_type("case.declined", topic=TOPIC)
class CaseDeclined(_PanelDecision):
    """The panel declined the case: the programme does not take it on."""


@event_type("case.signposted", topic=TOPIC)
class CaseSignposted(_PanelDecision):
    """The panel signposted the person to a service outside the programme."""

    signposted_to: str
    """Where to: a code of the tenant's signposting list."""


@event_type("case.escalated", topic=TOPIC)
class CaseEscalated(_PanelDecision):
    """The panel escalated the case (e.g. to safeguarding or the police)."""

    escalated_to: str
    """To whom: a code of the tenant's escalation list."""


@event_type("case.consented", topic=TOPIC)
class CaseConsented(EventData):
    """An adopted case holds an active consent to support: interventions may start work."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    consent_id: uuid.UUID
    """Intake's consent record for the purpose `support`."""
    given_by: Giver
    """Who gave it."""
    needs: list[NeedCode]
    """The needs of the approved assessment the panel decided on, sorted (plan items tie to these)."""
    assessment_id: uuid.UUID
    """That assessment."""
    consented_at: datetime
    """When the case became consented."""


@event_type("case.withdrawn", topic=TOPIC)
class CaseWithdrawn(EventData):
    """Consent to support was withdrawn: all work on the case stops at once, and only compliance reads it."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    consent_id: uuid.UUID
    """The consent that was withdrawn."""
    withdrawn_at: datetime
    """When it was withdrawn."""


# Steps 3 to 6 inside assessment: information gathering, frameworks, assessments, the panel, consent.
# Codes and references only: questions, answers, ratings' notes, conclusions and reasons stay in assessment.

ShareConcern = Literal["yes", "no", "unknown"]
ReassessmentReason = Literal["review_date", "repeat_referral", "intervention_review", "information_response"]


@event_type("information_request.sent", topic=TOPIC)
class InformationRequestSent(EventData):
    """A case worker asked another agency what it knows, under an agreement that lets it receive the categories."""

    request_id: uuid.UUID
    """The information request."""
    case_id: uuid.UUID
    """The case it is about."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    organisation: str
    """The registry id of the organisation asked."""
    data_categories: list[str]
    """The data categories asked for (names of the agreement's categories), sorted."""
    agreement_id: uuid.UUID
    """The agreement the request is made under."""
    agreement_version: int
    """That agreement's version."""
    due_on: date
    """When an answer is due."""
    actor: str
    """Who asked: the token's subject."""


@event_type("information_request.answered", topic=TOPIC)
class InformationRequestAnswered(EventData):
    """The agency answered (what it knows stays in assessment)."""

    request_id: uuid.UUID
    """The information request."""
    case_id: uuid.UUID
    """The case it is about."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    organisation: str
    """The registry id of the organisation that answered."""
    shares_concern: ShareConcern
    """Whether the agency shares the concern."""
    attachments: int
    """How many attachment references the answer carries."""
    late: bool
    """Whether it was answered after its due date."""
    answered_at: datetime
    """When it was answered."""


@event_type("framework.published", topic=TOPIC)
class FrameworkPublished(EventData):
    """A version of a tenant's assessment framework was published: from now on it never changes."""

    framework_id: uuid.UUID
    """The framework."""
    code: str
    """The framework's code in the tenant."""
    version: int
    """The version published."""
    items: int
    """How many items it has."""
    actor: str
    """Who published it: the token's subject (`seed` for the starter frameworks)."""


@event_type("case.assigned", topic=TOPIC)
class CaseAssigned(EventData):
    """An assessor was assigned to a case: they may read it and contribute to its assessments."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    assessor: str
    """The assessor's subject (the token's `sub`)."""
    actor: str
    """Who assigned them."""


@event_type("assessment.started", topic=TOPIC)
class AssessmentStarted(EventData):
    """A draft assessment of a case was started with a published framework version."""

    assessment_id: uuid.UUID
    """The assessment."""
    case_id: uuid.UUID
    """Its case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    framework_id: uuid.UUID
    """The framework."""
    framework_version: int
    """The framework's version (kept for the assessment's life)."""
    actor: str
    """Who started it."""


@event_type("assessment.submitted", topic=TOPIC)
class AssessmentSubmitted(EventData):
    """An assessment was submitted for approval, with its summary, needs and management plan."""

    assessment_id: uuid.UUID
    """The assessment."""
    case_id: uuid.UUID
    """Its case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    needs: list[NeedCode]
    """The needs it identifies, sorted."""
    authors: int
    """How many people contributed to it."""
    actor: str
    """Who submitted it."""


@event_type("assessment.returned", topic=TOPIC)
class AssessmentReturned(EventData):
    """A submitted assessment was sent back to its authors as a draft (the reviewer's reasons stay in assessment)."""

    assessment_id: uuid.UUID
    """The assessment."""
    case_id: uuid.UUID
    """Its case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    actor: str
    """Who returned it."""


@event_type("reassessment.due", topic=TOPIC)
class ReassessmentDue(EventData):
    """A case is due for reassessment: its review date was set, or new information arrived."""

    case_id: uuid.UUID
    """The case."""
    subject_ref: uuid.UUID
    """The person's pseudonymous subject reference."""
    due_on: date
    """When the reassessment is due."""
    reason: ReassessmentReason
    """Why (a code)."""


@event_type("panel_meeting.scheduled", topic=TOPIC)
class PanelMeetingScheduled(EventData):
    """A multi-agency panel meeting was scheduled with its agenda (attendees' names stay in assessment)."""

    meeting_id: uuid.UUID
    """The meeting."""
    held_on: date
    """The day of the meeting."""
    agencies: list[str]
    """The agencies attending (registry ids or codes), sorted and distinct."""
    cases: list[uuid.UUID]
    """The cases on its agenda."""
    actor: str
    """Who scheduled it."""


@event_type("assessment_settings.changed", topic=TOPIC)
class AssessmentSettingsChanged(EventData):
    """A tenant changed how its assessments and panel work: the values before and the new ones."""

    change_id: uuid.UUID
    """Assessment's record of the change (`GET .../settings/history`)."""
    four_eyes: bool
    """Whether an assessment's approver must not be one of its authors."""
    panel_quorum: int
    """How many distinct agencies a panel decision needs."""
    previous_four_eyes: bool
    """The four-eyes rule in force before (the default, on, if none had been set)."""
    previous_panel_quorum: int
    """The quorum in force before (the default, 3, if none had been set)."""
    actor: str
    """Who changed them."""

"""Case transfer between counties, when a person moves.

The sending county proposes, under an agreement in force in the sending tenant that names the
receiving tenant and permits `transfer_cases`; the receiving county accepts or refuses. Each county
holds its own side of the transfer (row-level security: rows belong to the tenant that holds them),
and each learns of the other's step from assessment's own events:

    sender   POST .../cases/{id}/transfers      -> case.transfer_proposed   (sender's log)
    consumer records the incoming side          -> case.transfer_received   (receiver's log)
    receiver POST .../transfers/{id}/accept     -> case.transfer_accepted   (receiver's log; new case there)
    consumer marks and minimises the sender's   -> case.transferred         (sender's log)
    receiver POST .../transfers/{id}/refuse     -> case.transfer_refused    (receiver's log)
    consumer records the refusal                -> case.transfer_refusal_recorded (sender's log)

Events carry references and codes only (ids, tenants, subject_ref, reason codes), never the notes.

What the sender keeps of a transferred case: its id, status (`transferred`), opened_at, closed_at and
transfer_id, and its side of the transfer without subject_ref or note. It keeps subject_ref or
referral_id only if the agreement has a data category named `retained_by_sender` listing them. A
county that refuses a transfer drops the subject_ref from its incoming side.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar, get_args

from harambee_assessment import repository
from harambee_assessment.events import EVENTS
from harambee_assessment.models import Case, CaseTransfer
from harambee_common.agreements import (
    Agreement,
    AgreementRefused,
    Party,
    agreements_of,
    decide,
    decision_event,
)
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.assessment import (
    CaseTransferred,
    RefusalReason,
    Retainable,
    TransferAccepted,
    TransferProposed,
    TransferReason,
    TransferReceived,
    TransferRefusalRecorded,
    TransferRefused,
    TransferStep,
)
from harambee_common.db import UnitOfWork, in_tenant
from harambee_common.events import Event
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found

OPERATION = "transfer_cases"
RETAINED_CATEGORY = "retained_by_sender"
# Beyond the minimum (id, status, dates, transfer reference), what an agreement may let the sender keep.
RETAINABLE = frozenset(get_args(Retainable))

Step = TypeVar("Step", bound=TransferStep)


def propose_transfer(
    *, uow: UnitOfWork, principal: TenantPrincipal, case_id: uuid.UUID, to: str, reason: TransferReason,
    note: str | None,
) -> CaseTransfer:
    """Proposes that another county take an open case over, only under an agreement in force."""
    if to == uow.tenant:
        raise ValidationFailed("A case is transferred to another county, not to its own.")
    case = or_not_found(repository.get_case(session=uow.session, case_id=case_id, for_update=True), "No such case.")
    if case.status != "open":
        raise Conflict(f"Only an open case can be transferred; this one is {case.status}.")
    if repository.has_pending_transfer(session=uow.session, case_id=case_id):
        raise Conflict("A transfer of this case is already awaiting the receiving county's answer.")
    agreement, decision = _transfer_decision(sending=uow, principal=principal, receiving=to)
    uow.publish(decision)
    transfer = CaseTransfer(
        tenant_id=uow.tenant, id=uuid.uuid4(), direction="outgoing", case_id=case.id, subject_ref=case.subject_ref,
        from_tenant=uow.tenant, to_tenant=to, status="proposed", reason=reason, note=note,
        agreement_id=agreement.id, agreement_version=agreement.version, proposed_at=datetime.now(UTC),
    )
    repository.add_transfer_once(session=uow.session, transfer=transfer)
    _publish(uow, _step(TransferProposed, transfer, actor=principal.actor, agreement_id=agreement.id,
                        agreement_version=agreement.version, proposed_at=transfer.proposed_at))
    return transfer


def receive_transfer(*, uow: UnitOfWork, proposal: TransferProposed) -> None:
    """Consumer step: records a proposal's incoming side in the receiving tenant and says so there."""
    with in_tenant(uow, proposal.to) as receiving:
        transfer = CaseTransfer(
            tenant_id=receiving.tenant, id=proposal.transfer_id, direction="incoming", case_id=proposal.case_id,
            subject_ref=proposal.subject_ref, from_tenant=proposal.from_tenant, to_tenant=proposal.to,
            status="proposed", reason=proposal.reason, note=None, agreement_id=proposal.agreement_id,
            agreement_version=proposal.agreement_version, proposed_at=proposal.proposed_at,
        )
        if repository.add_transfer_once(session=receiving.session, transfer=transfer):
            _publish(receiving, _step(TransferReceived, transfer))


def accept_transfer(
    *, uow: UnitOfWork, principal: TenantPrincipal, transfer_id: uuid.UUID, note: str | None
) -> CaseTransfer:
    """Takes an incoming case over: opens it here, if the sender's agreement is still in force."""
    transfer = _pending_incoming(uow=uow, transfer_id=transfer_id)
    # An agreement suspended or ended since the proposal stops the transfer: check the sender's copy again.
    with in_tenant(uow, transfer.from_tenant) as sending:
        agreement, decision = _transfer_decision(sending=sending, principal=principal, receiving=uow.tenant)
    uow.publish(decision)
    now = datetime.now(UTC)
    case = Case(id=uuid.uuid4(), tenant_id=uow.tenant, subject_ref=transfer.subject_ref, referral_id=None,
                status="open", opened_at=now, transferred_from=transfer.id)
    repository.add_case(session=uow.session, case=case)
    transfer.status, transfer.decided_at, transfer.decision_note = "accepted", now, note
    transfer.received_case_id = case.id
    _publish(uow, _step(TransferAccepted, transfer, actor=principal.actor, received_case_id=case.id, opened_at=now,
                        agreement_id=agreement.id, agreement_version=agreement.version))
    return transfer


def refuse_transfer(
    *, uow: UnitOfWork, principal: TenantPrincipal, transfer_id: uuid.UUID, reason: RefusalReason,
    note: str | None,
) -> CaseTransfer:
    """Declines an incoming case; the sender's case stays open, and this county forgets whom it was about."""
    transfer = _pending_incoming(uow=uow, transfer_id=transfer_id)
    transfer.status, transfer.decided_at = "refused", datetime.now(UTC)
    transfer.decision_reason, transfer.decision_note = reason, note
    _publish(uow, _step(TransferRefused, transfer, actor=principal.actor, decision_reason=reason))
    transfer.subject_ref = None
    return transfer


def conclude_accepted(*, uow: UnitOfWork, acceptance: TransferAccepted, at: datetime) -> None:
    """Consumer step: in the sender, marks the case transferred and minimises it to what the agreement allows."""
    with in_tenant(uow, acceptance.from_tenant) as sending:
        transfer = _pending_outgoing(uow=sending, transfer_id=acceptance.transfer_id)
        if transfer is None:
            return
        case = repository.get_case(session=sending.session, case_id=transfer.case_id, for_update=True)
        if case is None:
            return
        kept = retained_fields(agreement=_agreement(uow=sending, agreement_id=transfer.agreement_id))
        subject_ref = case.subject_ref
        case.status, case.closed_at, case.transfer_id = "transferred", at, transfer.id
        transfer.status, transfer.decided_at, transfer.note = "accepted", at, None
        if "subject_ref" not in kept:
            case.subject_ref = transfer.subject_ref = None
        if "referral_id" not in kept:
            case.referral_id = None
        EVENTS.publish(sending, CaseTransferred(
            transfer_id=transfer.id, case_id=case.id, subject_ref=subject_ref, from_tenant=transfer.from_tenant,
            to=transfer.to_tenant, retained=sorted(kept),
        ), subject=str(subject_ref))


def conclude_refused(*, uow: UnitOfWork, refusal: TransferRefused, at: datetime) -> None:
    """Consumer step: in the sender, records the refusal; the case stays open and may be proposed again."""
    with in_tenant(uow, refusal.from_tenant) as sending:
        transfer = _pending_outgoing(uow=sending, transfer_id=refusal.transfer_id)
        if transfer is None:
            return
        transfer.status, transfer.decided_at, transfer.decision_reason = "refused", at, refusal.decision_reason
        _publish(sending, _step(TransferRefusalRecorded, transfer, decision_reason=refusal.decision_reason))


def read_transfers(
    *, uow: UnitOfWork, principal: TenantPrincipal, direction: str | None, status: str | None,
    cursor: str | None, limit: int,
) -> Slice[CaseTransfer]:
    """A page of this county's transfers, newest first; each read is recorded before it is returned."""
    page = repository.list_transfers(session=uow.session, direction=direction, status=status, cursor=cursor,
                                     limit=limit)
    for transfer in page.rows:
        _record_read(uow=uow, principal=principal, transfer=transfer)
    return page


def read_transfer(*, uow: UnitOfWork, principal: TenantPrincipal, transfer_id: uuid.UUID) -> CaseTransfer:
    """This county's side of one transfer (or NotFound); the read is recorded before it is returned."""
    transfer = or_not_found(repository.get_transfer(session=uow.session, transfer_id=transfer_id, direction=None),
                            "No such transfer.")
    _record_read(uow=uow, principal=principal, transfer=transfer)
    return transfer


def retained_fields(*, agreement: Agreement | None) -> frozenset[str]:
    """The case fields beyond the minimum that the agreement lets the sender keep after a transfer."""
    if agreement is None:
        return frozenset()
    named = {f for c in agreement.terms.get("data_categories", ()) if c.get("name") == RETAINED_CATEGORY
             for f in c.get("fields", ())}
    return frozenset(named) & RETAINABLE


def _transfer_decision(
    *, sending: UnitOfWork, principal: TenantPrincipal, receiving: str
) -> tuple[Agreement, Event]:
    """The sender's agreement in force that lets it transfer cases to the receiver, and the decision's event.

    The decision belongs to the log of the county whose staff asked (the principal's tenant); a refusal
    is raised with its event, which is recorded although the request is rolled back.
    """
    decision = decide(session=sending.session, party=Party("tenant", receiving), operation=OPERATION,
                      on=datetime.now(UTC).date())
    event = decision_event(decision=decision, principal=principal, source=EVENTS)
    if not decision.granted or decision.agreement is None:
        refusal = AgreementRefused(f"No agreement in force lets '{sending.tenant}' transfer cases to '{receiving}'.")
        refusal.events.append(event)
        raise refusal
    return decision.agreement, event


def _pending_incoming(*, uow: UnitOfWork, transfer_id: uuid.UUID) -> CaseTransfer:
    transfer = or_not_found(repository.get_transfer(session=uow.session, transfer_id=transfer_id,
                                                    direction="incoming", for_update=True),
                            "No such incoming transfer.")
    if transfer.status != "proposed":
        raise Conflict(f"This transfer has been {transfer.status} already.")
    return transfer


def _pending_outgoing(*, uow: UnitOfWork, transfer_id: uuid.UUID) -> CaseTransfer | None:
    """The sender's side of a transfer still awaiting an answer (None for a redelivered or unknown answer)."""
    transfer = repository.get_transfer(session=uow.session, transfer_id=transfer_id, direction="outgoing",
                                       for_update=True)
    return transfer if transfer is not None and transfer.status == "proposed" else None


def _agreement(*, uow: UnitOfWork, agreement_id: uuid.UUID | None) -> Agreement | None:
    return next((a for a in agreements_of(session=uow.session) if a.id == agreement_id), None)


def _step(model: type[Step], transfer: CaseTransfer, **detail: Any) -> Step:
    """A transfer step's event data: the transfer's references and reason, and what the step adds."""
    return model(transfer_id=transfer.id, case_id=transfer.case_id, subject_ref=transfer.subject_ref,
                 from_tenant=transfer.from_tenant, to=transfer.to_tenant, reason=transfer.reason, **detail)


def _publish(uow: UnitOfWork, step: TransferStep) -> None:
    EVENTS.publish(uow, step, subject=str(step.subject_ref))


def _record_read(*, uow: UnitOfWork, principal: TenantPrincipal, transfer: CaseTransfer) -> None:
    EVENTS.record_access(
        uow, principal=principal,
        subject=str(transfer.subject_ref) if transfer.subject_ref else f"transfer/{transfer.id}",
        resource=f"transfer/{transfer.id}",
        fields=("subject_ref", "case_id", "status") if transfer.subject_ref else ("case_id", "status"),
        purpose="case-transfer",
    )

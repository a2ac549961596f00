"""A person's identity follows their case when it moves to another county.

Assessment raises `case.transfer_accepted` in the receiving county once that county takes a case over.
Intake applies its own copy of the sending county's agreements (`transfer_cases`, naming the receiving
tenant) and, under one in force, moves the person in the consumer's one transaction:

- The subject row keeps its id and changes tenant, with every subject merged into the same person.
  The id is the subject_ref by which assessment, interventions and the audit log follow the person,
  and the identity fields are sealed bound to it (`vault.identity_context`), not to the tenant: they
  move untouched. Only the data key is unwrapped with the sender's tenant key and wrapped under the
  receiver's.
- The blind index is recomputed with the receiver's key; the sender's index rows and duplicate
  candidates go.
- The sender's own records about the person (referrals, screenings, consents, rights requests) stay
  the sender's and keep pointing at the id, but are minimised as retention does: they were sealed
  under the same data key, which the receiver now holds.

Assessment accepted under an agreement of its own copy, named in the event. If intake's copy has not
reached that agreement's version yet, the acceptance is retried (RetryLater) rather than refused, for
up to COPY_LAG_WAIT; a batch applies the registry's agreement events before the rest.

Every decision is published, with the agreement's id and version, in the receiving county's log (its
staff's acceptance set the move off, as assessment records its own decision there); `subject.rekeyed`
goes to the receiver's log and `subject.released` to the sender's. References only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harambee_common.agreements import Decision, Party, agreements_of, decide, decision_event
from harambee_common.auth import Principal, TenantPrincipal
from harambee_common.catalogue.assessment import TransferAccepted
from harambee_common.catalogue.intake import SubjectRekeyed, SubjectReleased
from harambee_common.consumer import RetryLater
from harambee_common.db import UnitOfWork, in_tenant
from harambee_intake import matching, tenant_keys
from harambee_intake.events import EVENTS
from harambee_intake.models import Subject
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects import service as subjects
from harambee_intake.transfers import repository
from harambee_intake.vault import Vault, identity_context

OPERATION = "transfer_cases"
# How long an acceptance waits for this copy of the agreements to catch up before it is decided on what
# the copy holds. Beyond the agreement events, the registry sync refreshes the copy every 5 minutes.
COPY_LAG_WAIT = timedelta(minutes=15)
CLIENT_ID = "harambee-intake"  # the decision is applied by intake itself, on the accepting actor's behalf


@dataclass(frozen=True)
class Moved:
    """One subject handed to the receiving tenant, with its blind-index values there."""

    subject_id: uuid.UUID
    digests: list[matching.Digest]


@dataclass(frozen=True)
class TakeOver:
    """What a transfer did: the decision, and the subjects it moved (none when refused or erased)."""

    decision: Decision
    moved: list[uuid.UUID]


def take_over(*, uow: UnitOfWork, vault: Vault, accepted: TransferAccepted, accepted_at: datetime) -> TakeOver:
    """Moves the person of an accepted case transfer into the unit of work's tenant, under the sender's agreement.

    Raises RetryLater while this copy of the agreements has not yet caught up with the version assessment
    accepted under (for up to COPY_LAG_WAIT): the copy lagging is not the sender refusing.
    """
    sending = accepted.from_tenant
    with in_tenant(uow, sending) as sender:
        decision = decide(session=sender.session, party=Party("tenant", uow.tenant), operation=OPERATION,
                          on=datetime.now(UTC).date())
        if not decision.granted and _copy_behind(sender, accepted) and datetime.now(UTC) - accepted_at < COPY_LAG_WAIT:
            raise RetryLater(f"the copy of {sending}'s agreements has not reached the one the transfer names")
    uow.publish(decision_event(decision=decision, principal=_acting(uow=uow, actor=accepted.actor), source=EVENTS))
    if not decision.granted or decision.agreement is None:
        return TakeOver(decision=decision, moved=[])

    subject_ref = accepted.subject_ref
    generation = tenant_keys.current_generation(uow=uow, vault=vault)
    now = datetime.now(UTC)
    with in_tenant(uow, sending) as sender:
        members = _person(uow=sender, subject_ref=subject_ref)
        if not any(m.wrapped_key is not None for m in members):
            return TakeOver(decision=decision, moved=[])  # unknown here, moved already, or erased
        moved = [_move(uow=sender, vault=vault, subject=m, to=uow.tenant, generation=generation)
                 for m in members]
        ids = [m.subject_id for m in moved]
        released = subjects_repository.forget_sealed(session=sender.session, subject_ids=ids, at=now,
                                                     marker="[transferred]")
        EVENTS.publish(sender, SubjectReleased(**_references(accepted, ids=ids),
                                               referral_ids=released.referral_ids, minimised_at=now),
                       subject=str(subject_ref))

    for member in moved:
        exact = next((d.value for d in member.digests if d.kind == matching.EXACT), None)
        if exact is not None:  # as at intake: a submission about the same person waits for this one
            subjects_repository.lock_person(session=uow.session, tenant=uow.tenant, digest=exact)
        subjects_repository.add_index(session=uow.session, tenant=uow.tenant, subject_id=member.subject_id,
                             digests=[(d.kind, d.value) for d in member.digests])
    EVENTS.publish(uow, SubjectRekeyed(**_references(accepted, ids=ids),
                                       key_generation=generation, kek_id=vault.kek_id,
                                       agreement_id=decision.agreement.id,
                                       agreement_version=decision.agreement.version),
                   subject=str(subject_ref))
    return TakeOver(decision=decision, moved=ids)


def _copy_behind(sender: UnitOfWork, accepted: TransferAccepted) -> bool:
    """Whether the agreement assessment accepted under is missing here, or here at an older version."""
    held = next((a for a in agreements_of(session=sender.session) if a.id == accepted.agreement_id), None)
    return held is None or held.version < accepted.agreement_version


def _person(*, uow: UnitOfWork, subject_ref: uuid.UUID) -> list[Subject]:
    """The subject and every subject merged into the same person, locked (empty if not in this tenant)."""
    root = subjects_repository.roots(session=uow.session, subject_ids=[subject_ref]).get(subject_ref)
    if root is None:
        return []
    members = subjects_repository.tree(session=uow.session, root=root)
    return subjects_repository.lock_subjects(session=uow.session, subject_ids=members)


def _move(*, uow: UnitOfWork, vault: Vault, subject: Subject, to: str, generation: int) -> Moved:
    """Re-wraps one subject's key for the receiving tenant and hands the row over; an erased one moves bare."""
    digests: list[matching.Digest] = []
    wrapped, kek_id = None, None
    if subject.wrapped_key is not None:
        stored = subjects.wrapped_key(subject)
        key = vault.data_key(tenant=uow.tenant, subject=str(subject.id), wrapped=stored)
        fields = {name: key.decrypt_text(value, context=identity_context(str(subject.id), name))
                  for name, value in (subject.identity or {}).items()}
        if "given_name" in fields and "family_name" in fields:
            digests = matching.digests(vault.blind_index_key(to), fields)
        rewrapped = vault.transfer(from_tenant=uow.tenant, to_tenant=to, subject=str(subject.id), wrapped=stored,
                                   generation=generation)
        wrapped, kek_id = rewrapped.wrapped, rewrapped.kek_id
    subject_id = subject.id
    if not repository.move_subject(session=uow.session, subject=subject, to_tenant=to, wrapped=wrapped,
                                   generation=generation, kek_id=kek_id):
        raise RuntimeError("a locked subject of the sending tenant could not be moved")
    return Moved(subject_id=subject_id, digests=digests)


def _acting(*, uow: UnitOfWork, actor: str) -> TenantPrincipal:
    """The receiving county's staff member who accepted the transfer, as the decision's actor."""
    principal = Principal(subject=actor, client_id=CLIENT_ID, scopes=frozenset(), tenants={}, organisation=None)
    return TenantPrincipal(principal=principal, tenant=uow.tenant)


def _references(accepted: TransferAccepted, *, ids: list[uuid.UUID]) -> dict[str, Any]:
    """The transfer's references, as subject.released and subject.rekeyed both carry them."""
    return {"subject_ref": accepted.subject_ref, "subject_refs": ids, "transfer_id": accepted.transfer_id,
            "case_id": accepted.case_id, "received_case_id": accepted.received_case_id,
            "from_tenant": accepted.from_tenant, "to": accepted.to}

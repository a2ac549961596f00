"""Intake's logic: taking referrals in, and showing each caller what it may see of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from harambee_common.access import record_access
from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_intake import repository
from harambee_intake.models import Referral, Subject
from harambee_intake.schemas import ReferralIn
from harambee_intake.vault import Vault

TOPIC = "intake.events"
SOURCE = "/harambee/intake"
STAFF_ROLES = frozenset({"intake_officer", "case_worker"})


def sees_full_referral(principal: TenantPrincipal) -> bool:
    """Programme staff see referral content; a partner sees only the status of its own."""
    return bool(principal.roles & STAFF_ROLES)


def submit_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_in: ReferralIn
) -> Referral:
    """Stores a referral and its person's encrypted identity, and raises `referral.received`."""
    subject_id = uuid.uuid4()
    wrapped_key = vault.new_wrapped_key(tenant=uow.tenant, subject=str(subject_id))
    identity = referral_in.person.model_dump(mode="json", exclude_none=True)
    repository.add_subject(
        session=uow.session,
        subject=Subject(
            id=subject_id,
            tenant_id=uow.tenant,
            wrapped_key=wrapped_key,
            identity=vault.encrypt(identity, tenant=uow.tenant, subject=str(subject_id),
                                   wrapped_key=wrapped_key),
        ),
    )
    referral = Referral(
        id=uuid.uuid4(),
        tenant_id=uow.tenant,
        subject_id=subject_id,
        organisation=principal.organisation,
        submitted_by=principal.actor,
        source_type=referral_in.source_type.value,
        concern=referral_in.concern,
        indicators=referral_in.indicators,
        status="received",
        received_at=datetime.now(UTC),
    )
    repository.add_referral(session=uow.session, referral=referral)
    uow.publish(
        Event(
            type="referral.received",
            tenant=uow.tenant,
            topic=TOPIC,
            source=SOURCE,
            subject=str(subject_id),
            data={
                "referral_id": str(referral.id),
                "subject_ref": str(subject_id),
                "source_type": referral.source_type,
                "organisation": referral.organisation,
                "received_at": referral.received_at.isoformat(),
            },
        )
    )
    return referral


def read_referral(
    *, uow: UnitOfWork, principal: TenantPrincipal, referral_id: uuid.UUID
) -> Referral | None:
    """A referral the principal may see; staff reads of its content are recorded first."""
    organisation = None if sees_full_referral(principal) else _own_organisation(principal)
    referral = repository.get_referral(session=uow.session, referral_id=referral_id,
                                       organisation=organisation)
    if referral is not None and sees_full_referral(principal):
        _record_read(uow, principal, referral)
    return referral


def list_referrals(
    *, uow: UnitOfWork, principal: TenantPrincipal, after: tuple[datetime, str] | None, limit: int
) -> list[Referral]:
    """A page of the referrals the principal may see; staff reads are recorded per referral."""
    organisation = None if sees_full_referral(principal) else _own_organisation(principal)
    referrals = repository.list_referrals(session=uow.session, organisation=organisation,
                                          after=after, limit=limit)
    if sees_full_referral(principal):
        for referral in referrals:
            _record_read(uow, principal, referral)
    return referrals


def _own_organisation(principal: TenantPrincipal) -> str:
    # A partner without an organisation would otherwise see every referral: it sees none.
    return principal.organisation or "\x00no-organisation"


def _record_read(uow: UnitOfWork, principal: TenantPrincipal, referral: Referral) -> None:
    record_access(
        uow,
        principal=principal,
        topic=TOPIC,
        source=SOURCE,
        subject=str(referral.subject_id),
        resource=f"referral/{referral.id}",
        fields=("concern", "indicators", "source_type", "organisation"),
        purpose="case-management",
    )

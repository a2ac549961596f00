"""What intake shares with a partner under its data-sharing agreement: the fields it permits, and consent.

The agreement a partner acts under (harambee_common.agreements) names its data categories down to fields.
What a partner reads of a referral (its status, by GET, in a list, or pushed by webhook) is cut down to the
fields the agreement names: a field it does not name is sent as null. The referral's id is the reference
the partner itself was given when it submitted, and is always sent. Every disclosure is recorded, with the
fields disclosed: an `access.recorded` for each read and each webhook delivery.

Field names, as agreements spell them: `referral_id`, `status`, `received_at`, `previous_status`.

Consent. Where an agreement says `consent_required`, intake discloses what the programme did with a
referral (its status, read or pushed) only while the person has an active consent (not withdrawn, not
expired) that names the partner's organisation among its recipients: submitting is the partner's own
disclosure and needs none (the programme records consent only once the person is known to it), but what
comes back to the partner is the person's data flowing onward. Without such consent a read is refused
with a 403 problem and an `agreement.refused` decision; a list leaves the status of those referrals out
(null); a webhook delivery is held until consent is recorded (or the delivery is cancelled).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from harambee_common.agreements import Agreement, consent_refusal
from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_intake.consent import repository as consent_repository
from harambee_intake.events import EVENTS
from harambee_intake.models import Referral
from harambee_intake.subjects import repository as subjects_repository

# The reference the partner holds already: always disclosed.
REFERENCE = "referral_id"
# A partner's view of a referral, by the names its agreement uses for each field.
STATUS_FIELDS = {"id": REFERENCE, "status": "status", "received_at": "received_at"}
STATUS_CHANGE_FIELDS = {"referral_id": REFERENCE, "status": "status", "previous_status": "previous_status"}
READ_STATUS = "read_referral_status"


def projected(
    agreement: Agreement | None, data: Mapping[str, Any], names: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The data cut to what the agreement permits (Agreement.projected), the reference always kept.

    Without an agreement (the tenant's own staff) nothing is cut.
    """
    if agreement is None:
        return dict(data), sorted(names[k] for k in data if k in names)
    return agreement.projected(data, names, always=frozenset({REFERENCE}))


def consented(*, session: Session, subject_id: uuid.UUID, organisation: str) -> bool:
    """Whether the person has an active consent naming the organisation among its recipients."""
    root = subjects_repository.roots(session=session, subject_ids=[subject_id]).get(subject_id, subject_id)
    members = subjects_repository.tree(session=session, root=root)
    now = datetime.now(UTC)
    return any(c.state(now) == "active" and organisation in c.recipients
               for c in consent_repository.consents_of(session=session, subject_ids=members))


def may_disclose(*, session: Session, agreement: Agreement | None, organisation: str | None,
                 referral: Referral) -> bool:
    """Whether the agreement's consent condition, if it has one, is met for this referral's person."""
    if agreement is None or not agreement.consent_required:
        return True
    return organisation is not None and consented(session=session, subject_id=referral.subject_id,
                                                  organisation=organisation)


def require_consent(*, uow: UnitOfWork, principal: TenantPrincipal, referral: Referral) -> None:
    """Refuses a partner's read of a referral whose person has not consented, where the agreement asks it."""
    agreement = principal.agreement
    if may_disclose(session=uow.session, agreement=agreement, organisation=principal.organisation,
                    referral=referral):
        return
    raise consent_refusal(principal=principal, agreement=agreement, organisation=principal.organisation or "(none)",
                          operation=READ_STATUS, source=EVENTS)


def record_disclosure(*, uow: UnitOfWork, principal: TenantPrincipal, referral: Referral, fields: list[str],
                      purpose: str) -> None:
    """Records what a partner was given of a referral."""
    EVENTS.record_access(uow, principal=principal, subject=str(referral.subject_id),
                         resource=f"referral/{referral.id}/status", fields=fields, purpose=purpose)

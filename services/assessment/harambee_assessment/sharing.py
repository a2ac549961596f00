"""What assessment discloses to an agency under its agreement: the fields the agreement names, and nothing
about the person without their consent where the agreement asks for it.

Two views reach a party outside the programme: the summary of a case a partner is involved in (under
`read_case_summary`) and the information requests addressed to an agency (its inbox, one request, the
request as answered; under `information_requests`). Each is cut to the fields the agreement's data
categories name (`Agreement.projected`): a field it does not name is sent as null. Every disclosure is
recorded (`access.recorded`) with the fields disclosed.

Field names, as agreements spell them:
- a case summary: `case_id`, `status`, `opened_at`, `latest_outcome`, `decided_at`. `case_id` is always
  sent: the partner asked by it.
- an information request: `question`, `shares_concern`, `knowledge`, `attachments`; and its frame,
  `request_id`, `organisation`, `data_categories`, `due_on`, `status`, `requested_at`, `answered_at`, which is
  always sent: it says what the programme asked the agency and by when, nothing about the person, and an
  agency cannot work its inbox without it.

Consent. Where an agreement says `consent_required`, the person's data goes to the agency only while the
person has an active consent (not withdrawn, not expired) naming the agency's organisation among its
recipients: intake's rule (intake's sharing.py), applied to the consents whose `consent.recorded` names
registry organisations. Without one, a case summary is refused and a request is not sent, both with a 403
problem (`consent-required`) and an `agreement.refused` decision; the agency's read of one request is
refused the same way, and its inbox (and the request it gets back when it answers) leaves the question out.
What the agency answers is its own disclosure and needs no consent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_assessment.events import EVENTS
from harambee_assessment.models import DisclosureConsent
from harambee_common.agreements import Agreement, consent_refusal
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import ConsentRecorded
from harambee_common.db import UnitOfWork

# A partner's view of a case, by the names its agreement uses for each field; the id is always sent.
SUMMARY_FIELDS = {name: name for name in ("case_id", "status", "opened_at", "latest_outcome", "decided_at")}
SUMMARY_ALWAYS = frozenset({"case_id"})
# An agency's view of a request addressed to it: the question and the answer as the agreement names them,
# the request's frame always.
REQUEST_FIELDS = {"id": "request_id", **{name: name for name in (
    "organisation", "data_categories", "due_on", "status", "requested_at", "answered_at", "question",
    "shares_concern", "knowledge", "attachments")}}
REQUEST_FRAME = frozenset({"request_id", "organisation", "data_categories", "due_on", "status", "requested_at",
                           "answered_at"})
# What of a request is the person's data flowing to the agency, held back without the consent required.
ABOUT_THE_PERSON = ("question",)


# How a partner route documents its 403.
REFUSED = ("No agreement in force permits this (the refusal is recorded); or the agreement requires the person's "
           "consent naming your organisation, and none is recorded (`consent-required`, recorded too)")


def projected(agreement: Agreement | None, data: Mapping[str, Any], names: Mapping[str, str],
              always: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """The data cut to what the agreement names (the tenant's own staff, with none, get it whole) and the
    fields disclosed."""
    if agreement is None:
        return dict(data), sorted(names[k] for k, v in data.items() if k in names and v is not None)
    return agreement.projected(data, names, always=always)


def may_disclose(*, session: Session, agreement: Agreement | None, organisation: str | None,
                 subject_ref: uuid.UUID | None, at: datetime) -> bool:
    """Whether the agreement's consent condition, if it has one, is met for the person and the organisation."""
    if agreement is None or not agreement.consent_required:
        return True
    if organisation is None or subject_ref is None:
        return False
    return session.scalar(sa.select(sa.exists().where(
        DisclosureConsent.subject_ref == subject_ref, DisclosureConsent.organisations.contains([organisation]),
        DisclosureConsent.withdrawn_at.is_(None),
        sa.or_(DisclosureConsent.expires_at.is_(None), DisclosureConsent.expires_at > at),
    ))) or False


def require_consent(*, uow: UnitOfWork, principal: TenantPrincipal, agreement: Agreement | None,
                    organisation: str, subject_ref: uuid.UUID | None, operation: str, at: datetime) -> None:
    """Refuses (403, the decision recorded) a disclosure whose agreement waits for consent not recorded."""
    if may_disclose(session=uow.session, agreement=agreement, organisation=organisation, subject_ref=subject_ref,
                    at=at):
        return
    raise consent_refusal(principal=principal, agreement=agreement, organisation=organisation, operation=operation,
                          source=EVENTS)


def consent_recorded(*, uow: UnitOfWork, consent: ConsentRecorded) -> None:
    """Keeps a consent's references if it names organisations among its recipients."""
    if not consent.recipient_organisations:
        return
    uow.session.execute(insert(DisclosureConsent).values(
        consent_id=consent.consent_id, tenant_id=uow.tenant, subject_ref=consent.subject_ref,
        organisations=sorted(set(consent.recipient_organisations)), given_at=consent.given_at,
        expires_at=consent.expires_at,
    ).on_conflict_do_nothing())


def consent_withdrawn(*, uow: UnitOfWork, consent_id: uuid.UUID, at: datetime) -> None:
    """A consent was withdrawn: nothing more is disclosed on it."""
    uow.session.execute(sa.update(DisclosureConsent).where(DisclosureConsent.consent_id == consent_id)
                        .values(withdrawn_at=at))

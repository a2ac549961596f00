"""Taking referrals in, and giving each caller what it may see of them (referrals.record says what that is)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.intake import ReferralAmended, ReferralReceived
from harambee_common.db import UnitOfWork, pipelined
from harambee_common.pagination import Slice
from harambee_common.problems import Forbidden, ValidationFailed, or_not_found
from harambee_intake import sharing
from harambee_intake.auth import STAFF_ROLES
from harambee_intake.events import EVENTS
from harambee_intake.models import Referral
from harambee_intake.preconditions import require_match
from harambee_intake.problems import UnknownCode
from harambee_intake.referrals import repository
from harambee_intake.referrals.record import (
    CONTENT_FIELDS,
    LIST_FIELDS,
    ReferralDetail,
    coded,
    context,
    open_content,
    sealed,
    status_view,
)
from harambee_intake.referrals.repository import ReferralFilter
from harambee_intake.referrals.schemas import ReferralIn, ReferralStatus
from harambee_intake.schema_types import age_on
from harambee_intake.screening import service as screening
from harambee_intake.subjects import service as subjects
from harambee_intake.vault import Vault
from harambee_intake.vocabularies import service as vocabularies
from harambee_intake.vocabularies.service import BEHAVIOUR, Vocabulary
from harambee_intake.webhooks import service as webhooks

STATUSES = ("received", "screening", "screened")
PARTNER_STATUSES = ("received", "under_consideration", "closed")

AGE_BANDS = ((15, "under_15"), (18, "15_17"), (25, "18_24"), (35, "25_34"))


def sees_full_referral(principal: TenantPrincipal) -> bool:
    """Programme staff see referral content; a partner sees only the status of its own."""
    return bool(principal.roles & STAFF_ROLES)


def submit_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_in: ReferralIn
) -> Referral:
    """Stores a referral and its person's encrypted identity, and raises `referral.received`."""
    lists = vocabularies.in_force(uow=uow)
    _check_codes(referral_in, lists)
    received_at = datetime.now(UTC)
    is_minor, age_band = _age(referral_in, at=received_at.date())

    link = subjects.link_person(uow=uow, vault=vault, identity=identity_fields(referral_in))
    subject_id = link.subject.id
    referral_id = uuid.uuid4()
    referral = Referral(
        id=referral_id,
        tenant_id=uow.tenant,
        subject_id=subject_id,
        organisation=principal.organisation,
        submitted_by=principal.actor,
        source_type=referral_in.source_type.value,
        concern=None,
        indicators=referral_in.indicators,
        status="received",
        received_at=received_at,
        updated_at=received_at,
        version=1,
        coded=coded(referral_in),
        flags=_flags(referral_in, lists["indicators"]),
        is_minor=is_minor,
        age_band=age_band,
        sealed=link.data_key.seal(sealed(referral_in), context=context(referral_id)),
    )
    gender = referral_in.person.gender
    EVENTS.publish(uow, ReferralReceived(
        referral_id=referral.id, subject_ref=subject_id, source_type=referral.source_type,
        organisation=referral.organisation, received_at=referral.received_at, repeat_referral=link.repeat,
        # Codes monitoring counts by (its README lists them); the date of birth stays sealed here.
        age_band=age_band, is_minor=is_minor, gender=gender.value if gender else None,
        indicators=sorted(referral_in.indicators), concern_types=_kinds(referral_in.indicators, lists["indicators"]),
    ), subject=str(subject_id))
    with pipelined(uow):  # every write of a submission, in one round trip: nothing here reads
        subjects.store_new_subject(uow=uow, link=link)
        repository.add_referral(session=uow.session, referral=referral)
        subjects.record_candidates(uow=uow, link=link, referral_id=referral.id)
        uow.write_events()
    return referral


def identity_fields(referral_in: ReferralIn) -> dict[str, str]:
    """The person's identifying fields as strings, for the vault."""
    person = referral_in.person.model_dump(mode="json", exclude_none=True)
    guardians = person.pop("guardians", [])
    if guardians:
        person["guardians"] = json.dumps(guardians, separators=(",", ":"))
    return person


def read_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_id: uuid.UUID
) -> ReferralStatus | ReferralDetail | None:
    """A referral the principal may see; staff get its content, a partner its status as its agreement
    permits (sharing.py); each read is recorded first."""
    staff = sees_full_referral(principal)
    organisation = None if staff else _own_organisation(principal)
    referral = repository.get_referral(session=uow.session, referral_id=referral_id,
                                       organisation=organisation)
    if referral is None:
        return None
    if not staff:
        sharing.require_consent(uow=uow, principal=principal, referral=referral)
        status, fields = status_view(referral, agreement=principal.agreement)
        sharing.record_disclosure(uow=uow, principal=principal, referral=referral, fields=fields,
                                  purpose="referral-status")
        return status
    _record_read(uow, principal, referral, fields=CONTENT_FIELDS)
    return ReferralDetail(referral=referral, content=open_content(uow=uow, vault=vault, referral=referral),
                          history=subjects.history_if_here(uow=uow, subject_id=referral.subject_id),
                          decision=screening.read_decision(uow=uow, vault=vault, referral=referral))


def list_referrals(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, where: ReferralFilter, cursor: str | None,
    limit: int,
) -> Slice[ReferralStatus | ReferralDetail]:
    """A page of the referrals the principal may see; every read is recorded per referral."""
    staff = sees_full_referral(principal)
    allowed = STATUSES if staff else PARTNER_STATUSES
    unknown = sorted(set(where.statuses) - set(allowed))
    if unknown:
        raise ValidationFailed(f"Unknown status {', '.join(unknown)}; the statuses are: {', '.join(allowed)}.")
    if not staff:
        if where.screener is not None or where.outcomes:
            raise Forbidden("Partners can filter by status, source and date only.")
        where = replace(where, organisation=_own_organisation(principal), statuses=(),
                        partner_statuses=where.statuses)
    if where.screener == "me":
        where = replace(where, screener=principal.actor)
    page = repository.list_referrals(session=uow.session, where=where, cursor=cursor, limit=limit)
    if not staff:
        return Slice(rows=[_partner_status(uow, principal, r) for r in page.rows], next_cursor=page.next_cursor)
    details: list[ReferralStatus | ReferralDetail] = []
    for referral in page.rows:
        _record_read(uow, principal, referral, fields=LIST_FIELDS)
        concern = open_content(uow=uow, vault=vault, referral=referral, only=("concern",))
        details.append(ReferralDetail(referral=referral, content=concern))
    return Slice(rows=details, next_cursor=page.next_cursor)


def amend_referral(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, referral_id: uuid.UUID,
    changes: dict[str, Any], if_match: str | None,
) -> ReferralDetail:
    """Assigns a screener or sets the priority, if the caller saw the current version."""
    referral = or_not_found(repository.lock_referral(session=uow.session, referral_id=referral_id),
                            "No such referral.")
    require_match(if_match=if_match, version=referral.version)
    previous = referral.partner_status
    if "screener" in changes:
        screener = changes["screener"]
        referral.screener = principal.actor if screener == "me" else screener
        if referral.status == "received" and referral.screener is not None:
            referral.status = "screening"
    if changes.get("priority") is not None:
        referral.priority = changes["priority"]
    referral.touch()
    EVENTS.publish(uow, ReferralAmended(referral_id=referral.id, subject_ref=referral.subject_id,
                                        fields=sorted(changes)), subject=str(referral.subject_id))
    webhooks.status_changed(uow=uow, referral=referral, previous=previous)
    detail = read_referral(uow=uow, vault=vault, principal=principal, referral_id=referral_id)
    assert isinstance(detail, ReferralDetail)
    return detail


def _check_codes(referral_in: ReferralIn, lists: dict[str, Vocabulary]) -> None:
    used: list[tuple[tuple[str | int, ...], str, str]] = [
        (("indicators", i), code, "indicators") for i, code in enumerate(referral_in.indicators)
    ]
    if referral_in.online_activity:
        used += [(("online_activity", "platforms", i), c, "online_platforms")
                 for i, c in enumerate(referral_in.online_activity.platforms)]
    if referral_in.intent_to_harm:
        used += [(("intent_to_harm", "targets", i), c, "intent_targets")
                 for i, c in enumerate(referral_in.intent_to_harm.targets)]
    if referral_in.needs:
        used += [(("needs", "codes", i), c, "needs") for i, c in enumerate(referral_in.needs.codes)]
    if referral_in.safeguarding:
        for side in ("family", "peers"):
            used += [(("safeguarding", side, i), c, "safeguarding_concerns")
                     for i, c in enumerate(getattr(referral_in.safeguarding, side))]
    errors = [
        {"location": ["body", *location], "message": f"{code!r} is not in the tenant's {name!r} list",
         "type": "unknown_code"}
        for location, code, name in used
        if code not in lists[name].codes
    ]
    if errors:
        raise UnknownCode("Some codes are not in the tenant's lists (GET .../vocabularies).", errors=errors)


def _age(referral_in: ReferralIn, *, at: date) -> tuple[bool | None, str | None]:
    born = referral_in.person.date_of_birth
    if born is None:
        return referral_in.is_minor, None
    if born > at:
        raise ValidationFailed("The date of birth is in the future.", errors=[
            {"location": ["body", "person", "date_of_birth"], "message": "in the future",
             "type": "invalid_date"}])
    years = age_on(born, at)
    minor = years < 18
    if referral_in.is_minor is not None and referral_in.is_minor != minor:
        raise ValidationFailed("is_minor contradicts the date of birth.", errors=[
            {"location": ["body", "is_minor"], "message": f"the date of birth makes the person {years}",
             "type": "inconsistent"}])
    band = next((name for limit, name in AGE_BANDS if years < limit), "35_plus")
    return minor, band


def _kinds(codes: list[str], indicators: Vocabulary) -> list[str]:
    """The distinct kinds (behaviour, belief, context) of the indicator codes named, sorted."""
    return sorted({kind for code in codes if (kind := indicators.kind_of(code)) is not None})


def _flags(referral_in: ReferralIn, indicators: Vocabulary) -> list[str]:
    flags = []
    online = referral_in.online_activity
    observed = (
        any(indicators.kind_of(code) == BEHAVIOUR for code in referral_in.indicators)
        or bool(online and (online.platforms or online.description))
        or bool(referral_in.concerning_contacts)
        or bool(referral_in.intent_to_harm and referral_in.intent_to_harm.expressed)
    )
    if not observed:
        flags.append("belief_only")
    if referral_in.intent_to_harm and referral_in.intent_to_harm.expressed:
        flags.append("intent_to_harm")
    return flags


def _own_organisation(principal: TenantPrincipal) -> str:
    # A partner without an organisation would otherwise see every referral: it sees none.
    return principal.organisation or "\x00no-organisation"


def _partner_status(uow: UnitOfWork, principal: TenantPrincipal, referral: Referral) -> ReferralStatus:
    """One referral of a partner's list: its status withheld where the agreement's consent is missing."""
    withhold = not sharing.may_disclose(session=uow.session, agreement=principal.agreement,
                                        organisation=principal.organisation, referral=referral)
    status, fields = status_view(referral, agreement=principal.agreement, withhold=withhold)
    sharing.record_disclosure(uow=uow, principal=principal, referral=referral, fields=fields,
                              purpose="referral-status")
    return status


def _record_read(
    uow: UnitOfWork, principal: TenantPrincipal, referral: Referral, *, fields: tuple[str, ...]
) -> None:
    EVENTS.record_access(uow, principal=principal, subject=str(referral.subject_id),
                         resource=f"referral/{referral.id}", fields=fields, purpose="case-management")

"""Intake's part of an access export: the person's own data, and nobody else's unless an officer releases it.

The export is built from an allow-list. The person gets their identity, the coded choices about them,
what the referrer described of them (the concern, what was seen, online activity, intent, needs, what was
discussed), the screening, their consents, merges, re-identifications and rights requests. What is about
someone else is held back: the referrer's identity (their role, name, organisation and contact, the
referring organisation, the referrer's own document reference), the people the referrer names (concerning
contacts, the family and peers in the safeguarding description), the referrer's fears, and the person's
guardians. A field that is held about the person is listed in the export's `withheld` by reference and
name, never by value, so the person knows to ask.

An intake officer may release such a field, one field name at a time (for every referral of the person, or
for the referrals named), with a reason: e.g. the referrer agreed, or the third party's data is already
known to the person. The export's record (`access_exports`) keeps who made it and what it released and
withheld; the reason is sealed under the person's key; `rights_request.processed` carries the same
references and field names, and nothing of the words.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harambee_common.catalogue.intake import ExportField
from harambee_common.db import UnitOfWork
from harambee_intake.consent import repository as consent_repository
from harambee_intake.models import AccessExport, RightsRequest
from harambee_intake.referrals.record import open_content
from harambee_intake.rights import repository
from harambee_intake.rights.schemas import AccessRelease
from harambee_intake.screening import service as screening
from harambee_intake.subjects import repository as subjects_repository
from harambee_intake.subjects import service as subjects
from harambee_intake.vault import DataKey, Vault
from harambee_intake.vocabularies import service as vocabularies

# The referrer's words about the person: theirs to see.
OWN_CONTENT = ("concern", "observed_behaviour", "online_activity_description", "intent_description",
               "needs_description", "discussed_summary")
# Sealed referral fields that are about someone else, and the releasable name of each.
THIRD_PARTY_CONTENT = {
    "concerning_contacts": "concerning_contacts",
    "referrer_fears": "referrer_fears",
    "safeguarding_description": "safeguarding_description",
    "external_document": "external_document",
}
# What the access record names, besides each released field.
OWN_PARTS = ("identity", "referrals", "screenings", "consents", "merges", "reidentifications", "rights_requests",
             "other_services")


@dataclass
class Export:
    """The document given to the person, and what of others it released and withheld."""

    document: dict[str, Any]
    released: list[ExportField] = field(default_factory=list)
    withheld: list[ExportField] = field(default_factory=list)


class _Disclosure:
    """Decides field by field what of others goes into the export, and notes each decision."""

    def __init__(self, release: AccessRelease | None) -> None:
        self.fields = frozenset(release.fields) if release else frozenset()
        self.referrals = frozenset(release.referral_ids) if release and release.referral_ids else None
        self.released: list[ExportField] = []
        self.withheld: list[ExportField] = []

    def admits(self, referral_id: uuid.UUID | None, name: str) -> bool:
        """Whether a held field goes into the export; either way, the decision is noted."""
        chosen = name in self.fields and (self.referrals is None or referral_id in self.referrals)
        (self.released if chosen else self.withheld).append(ExportField(referral_id=referral_id, field=name))
        return chosen


def build(*, uow: UnitOfWork, vault: Vault, subject_id: uuid.UUID, release: AccessRelease | None) -> Export:
    """Intake's part of an access export: the person's own data, and only the released fields of others."""
    disclosure = _Disclosure(release)
    found = subjects.history(uow=uow, subject_id=subject_id)
    members = subjects_repository.lock_subjects(session=uow.session, subject_ids=found.members)
    labels = {name: {e["code"]: e["label"] for e in v.entries} for name, v in vocabularies.in_force(uow=uow).items()}
    identities, keys = [], {}
    for member in members:
        if member.wrapped_key is None:
            continue
        keys[member.id] = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=member)
        identity = subjects.open_identity(keys[member.id], subject=member)
        guardians = identity.pop("guardians", None)
        if guardians and disclosure.admits(None, "identity.guardians"):
            identity["guardians"] = guardians
        identities.append({"subject_ref": str(member.id), **identity})
    referrals = []
    for referral in sorted(found.referrals, key=lambda r: r.received_at):
        content = open_content(uow=uow, vault=vault, referral=referral)
        decision = screening.read_decision(uow=uow, vault=vault, referral=referral)
        referrals.append({
            "referral_id": str(referral.id), "received_at": referral.received_at.isoformat(),
            "source_type": referral.source_type, "status": referral.status,
            **({"referred_by_organisation": referral.organisation}
               if referral.organisation and disclosure.admits(referral.id, "referred_by_organisation") else {}),
            "indicators": [{"code": c, "label": labels["indicators"].get(c, c)} for c in referral.indicators],
            "flags": referral.flags, "is_minor": referral.is_minor, "age_band": referral.age_band,
            "details": {**(referral.coded or {}), **_details(referral.id, content, disclosure)},
            "screening": None if decision is None else {
                "outcome": decision.screening.outcome, "reason": decision.screening.reason,
                "note": decision.note, "screened_at": decision.screening.decided_at.isoformat()},
            "minimised_at": referral.minimised_at.isoformat() if referral.minimised_at else None,
        })
    consents = [{
        "consent_id": str(c.id), "given_by": c.given_by, "purposes": c.purposes, "recipients": c.recipients,
        "method": c.method, "given_at": c.given_at.isoformat(),
        "expires_at": c.expires_at.isoformat() if c.expires_at else None,
        "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        **_opened(keys.get(c.subject_id), c.sealed, f"consent:{c.id}"),
    } for c in consent_repository.consents_of(session=uow.session, subject_ids=found.members)]
    document = {
        "about": "Everything the Harambee referral programme holds about you, gathered for your access request.",
        "generated_at": datetime.now(UTC).isoformat(),
        "programme": uow.tenant,
        "subject_ref": str(found.subject_ref),
        "subject_refs": [str(m) for m in found.members],
        "identity": identities,
        "referrals": referrals,
        "consents": consents,
        "merges": [{"merged": str(m.source_id), "into": str(m.target_id), "at": m.merged_at.isoformat(),
                    "by": m.merged_by, "undone_at": m.unmerged_at.isoformat() if m.unmerged_at else None}
                   for m in subjects_repository.merges_of(session=uow.session, subject_ids=found.members)],
        "reidentifications": [{"at": r.at.isoformat(), "by": r.actor, "purpose": r.purpose}
                              for r in subjects_repository.reidentifications_of(session=uow.session,
                                                                                subject_ids=found.members)],
        "rights_requests": [{"kind": r.kind, "received_at": r.received_at.isoformat(), "status": r.status}
                            for r in repository.rights_requests_of(session=uow.session,
                                                                   subject_ids=found.members)],
        "withheld_note": "Some of what we hold is about other people (the person who referred you, people "
                         "they named, your guardians). It is listed under `withheld`, without its content; "
                         "the programme can tell you how to ask for it.",
        "withheld": [w.model_dump(mode="json") for w in disclosure.withheld],
        "released": [r.model_dump(mode="json") for r in disclosure.released],
    }
    return Export(document=document, released=disclosure.released, withheld=disclosure.withheld)


def record(
    *, uow: UnitOfWork, vault: Vault, request: RightsRequest, export: Export, actor: str,
    release: AccessRelease | None,
) -> AccessExport:
    """Records what an export released and withheld; the officer's reason is sealed under the person's key."""
    export_id = uuid.uuid4()
    sealed = None
    subject = subjects_repository.get_subject(session=uow.session, subject_id=request.subject_id)
    if release is not None and subject is not None and subject.wrapped_key is not None:
        key = subjects.subject_key(vault=vault, tenant=uow.tenant, subject=subject)
        sealed = key.seal({"release_reason": release.reason}, context=context(export_id))
    stored = AccessExport(
        id=export_id, tenant_id=uow.tenant, request_id=request.id, subject_id=request.subject_id,
        generated_at=datetime.now(UTC), generated_by=actor,
        released=[r.model_dump(mode="json") for r in export.released],
        withheld=[w.model_dump(mode="json") for w in export.withheld], sealed=sealed,
    )
    repository.add_access_export(session=uow.session, export=stored)
    return stored


def released_parts(export: Export) -> list[str]:
    """What the access record names: the person's own parts and each field of others released."""
    return [*OWN_PARTS, *sorted({f"referrals.{r.field}" if r.referral_id else r.field for r in export.released})]


def context(export_id: uuid.UUID) -> str:
    """What an access export's sealed fields are bound to."""
    return f"access-export:{export_id}"


def _details(referral_id: uuid.UUID, content: dict[str, Any], disclosure: _Disclosure) -> dict[str, Any]:
    details = {name: content[name] for name in OWN_CONTENT if content.get(name) is not None}
    for name, releasable in THIRD_PARTY_CONTENT.items():
        if content.get(name) is not None and disclosure.admits(referral_id, releasable):
            details[name] = content[name]
    referrer = {part: value for part, value in (content.get("referrer") or {}).items()
                if value is not None and disclosure.admits(referral_id, f"referrer.{part}")}
    if referrer:
        details["referrer"] = referrer
    return details


def _opened(key: DataKey | None, sealed: dict[str, str] | None, context: str) -> dict[str, Any]:
    if key is None or not sealed:
        return {}
    return {name: value for name, value in key.open(sealed, context=context).items() if value is not None}

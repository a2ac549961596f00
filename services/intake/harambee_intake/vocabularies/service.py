"""The coded choices a referral is made of: a default set, which a tenant may replace list by list.

Source types are not here: they are the national reporting categories (DOMAIN.md) every tenant
shares, so that referrals by source can be compared across counties; see `referrals.schemas.SourceType`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed
from harambee_intake.preconditions import require_match
from harambee_intake.tenant_settings import history
from harambee_intake.vocabularies import repository

# Kinds of indicator. A referral naming no `behaviour` indicator and nothing observed (online
# activity, contacts, intent to harm) is a referral for belief alone, which is flagged.
BEHAVIOUR = "behaviour"
BELIEF = "belief"
CONTEXT = "context"
INDICATOR_KINDS = (BEHAVIOUR, BELIEF, CONTEXT)


def _entries(*rows: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    return tuple({"code": r[0], "label": r[1], **({"kind": r[2]} if len(r) > 2 else {})} for r in rows)


DEFAULTS: dict[str, tuple[dict[str, str], ...]] = {
    "indicators": _entries(
        ("sharing_violent_material", "Shares material glorifying or inciting violence", BEHAVIOUR),
        ("consuming_extremist_content", "Seeks out or consumes violent extremist content", BEHAVIOUR),
        ("justifying_violence", "Justifies or praises violence against others", BEHAVIOUR),
        ("threats_of_violence", "Has threatened violence", BEHAVIOUR),
        ("contact_with_known_extremists", "In contact with people known to promote violence", BEHAVIOUR),
        ("recruiting_others", "Tries to recruit or pressure others", BEHAVIOUR),
        ("plans_to_travel", "Unexplained travel or plans to travel to a conflict area", BEHAVIOUR),
        ("acquiring_weapons_or_training", "Seeks weapons, explosives or combat training", BEHAVIOUR),
        ("sudden_withdrawal", "Sudden withdrawal from family, friends or school", BEHAVIOUR),
        ("secrecy_about_activities", "Secretive about new activities, contacts or money", BEHAVIOUR),
        ("dropped_out", "Has dropped out of school, training or work", CONTEXT),
        ("grievance_or_injustice", "Strong sense of grievance or injustice", CONTEXT),
        ("bereavement_or_trauma", "Recent bereavement, trauma or crisis", CONTEXT),
        ("religious_or_political_views", "Holds strong religious or political views", BELIEF),
        ("change_in_religious_practice", "Has changed dress, worship or religious practice", BELIEF),
    ),
    "online_platforms": _entries(
        ("social_media", "Social media"),
        ("messaging_apps", "Messaging apps"),
        ("video_sharing", "Video sharing"),
        ("gaming", "Online gaming"),
        ("forums", "Forums and imageboards"),
        ("other", "Other"),
    ),
    "intent_targets": _entries(
        ("self", "Themself"),
        ("others", "Other people"),
        ("specific_group", "A specific group or community"),
        ("institution_or_property", "An institution or property"),
        ("unspecified", "Not specified"),
    ),
    "needs": _entries(
        ("physical_disability", "Physical disability"),
        ("learning_disability", "Learning disability"),
        ("autism_spectrum", "Autism spectrum"),
        ("mental_health", "Mental health condition"),
        ("sensory_impairment", "Hearing or visual impairment"),
        ("language_support", "Needs language or interpretation support"),
        ("other", "Other"),
    ),
    "safeguarding_concerns": _entries(
        ("domestic_violence", "Domestic violence"),
        ("neglect", "Neglect"),
        ("exploitation", "Exploitation (criminal, sexual or labour)"),
        ("substance_use", "Substance use"),
        ("bullying", "Bullying"),
        ("gang_involvement", "Gang involvement"),
        ("family_member_radicalised", "A family member involved in violent extremism"),
        ("bereavement", "Bereavement"),
        ("other", "Other"),
    ),
    "signpost_services": _entries(
        ("mental_health", "Mental health services"),
        ("substance_use", "Substance use services"),
        ("education_support", "Education support"),
        ("livelihoods", "Employment and livelihoods"),
        ("family_support", "Family support"),
        ("child_protection", "Child protection"),
        ("health", "Health services"),
        ("legal_aid", "Legal aid"),
        ("youth_services", "Youth services"),
        ("other", "Other"),
    ),
    "consent_purposes": _entries(
        ("support", "Receiving support from the programme"),
        ("assessment", "Assessment of needs and strengths"),
        ("information_sharing", "Sharing information with the named recipients"),
        ("intervention", "Interventions by the named providers"),
        ("follow_up", "Follow-up after support ends"),
    ),
}

NAMES = tuple(DEFAULTS)


@dataclass(frozen=True)
class Vocabulary:
    """One list of codes in force in a tenant."""

    name: str
    entries: tuple[dict[str, Any], ...]
    version: int  # 0 for the default set
    overridden: bool

    @property
    def codes(self) -> frozenset[str]:
        """The codes a client may use."""
        return frozenset(e["code"] for e in self.entries)

    def kind_of(self, code: str) -> str | None:
        """The kind of an indicator code."""
        return next((e.get("kind") for e in self.entries if e["code"] == code), None)


def default(name: str) -> Vocabulary:
    """The default list of that name."""
    return Vocabulary(name=name, entries=DEFAULTS[name], version=0, overridden=False)


def in_force(*, uow: UnitOfWork) -> dict[str, Vocabulary]:
    """Every list in force in the unit of work's tenant: its own where it has one, else the default."""
    lists = {name: default(name) for name in NAMES}
    for row in repository.list_vocabularies(session=uow.session):
        if row.name in lists:
            lists[row.name] = Vocabulary(
                name=row.name, entries=tuple(row.entries), version=row.version, overridden=True
            )
    return lists


def one(*, uow: UnitOfWork, name: str) -> Vocabulary:
    """The list of that name in force in the tenant."""
    if name not in DEFAULTS:
        raise NotFound(f"No list named {name!r}; the lists are: {', '.join(NAMES)}.")
    row = repository.get_vocabulary(session=uow.session, name=name)
    if row is None:
        return default(name)
    return Vocabulary(name=name, entries=tuple(row.entries), version=row.version, overridden=True)


def replace(
    *, uow: UnitOfWork, principal: TenantPrincipal, name: str, entries: list[dict[str, Any]],
    if_match: str | None,
) -> Vocabulary:
    """Replaces the tenant's list of that name (the default is version 0); If-Match guards it. The change is
    kept and published (tenant_settings.history)."""
    current = one(uow=uow, name=name)
    require_match(if_match=if_match, version=current.version)
    codes = [e["code"] for e in entries]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationFailed(f"Codes appear more than once: {', '.join(duplicates)}.")
    if name == "indicators":
        missing = [e["code"] for e in entries if e.get("kind") not in INDICATOR_KINDS]
        if missing:
            raise ValidationFailed(f"Every indicator needs a kind ({', '.join(INDICATOR_KINDS)}): "
                                   f"{', '.join(missing)}.")
        if not any(e["kind"] == BEHAVIOUR for e in entries):
            raise ValidationFailed("The indicators list needs at least one behaviour.")
    row = repository.upsert_vocabulary(
        session=uow.session, tenant=uow.tenant, name=name, entries=entries,
        version=current.version + 1, updated_by=principal.actor, updated_at=datetime.now(UTC),
    )
    history.vocabulary_replaced(uow=uow, principal=principal, name=name, version=row.version,
                                previous=list(current.entries), entries=entries)
    return Vocabulary(name=name, entries=tuple(row.entries), version=row.version, overridden=True)

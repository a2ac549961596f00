"""The intervention catalogue in force in a tenant: the defaults below, overlaid by the tenant's edits.

Every tenant starts with the kinds of support DOMAIN.md names; a tenant renames, describes, retires
(`active: false`) or adds types, one at a time. A retired type stays readable (old plans name it) but
no new plan item may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.problems import ValidationFailed
from harambee_interventions.intervention_types import repository
from harambee_interventions.models import InterventionType
from harambee_interventions.tenant_settings import history

DEFAULTS: dict[str, str] = {
    "mentoring": "Mentoring, including peer mentors from the same neighbourhood",
    "psychosocial_support": "Psychosocial support and counselling",
    "mental_health": "Mental health care",
    "education_career": "Education and career advice",
    "vocational_livelihoods": "Vocational training and livelihoods",
    "family_support": "Family support and parent coaching",
    "theological_mentoring": "Theological or ideological mentoring",
    "sports_arts": "Sports and arts",
    "online_safety": "Online safety",
}


@dataclass(frozen=True)
class Entry:
    """One type as the tenant's catalogue holds it."""

    code: str
    label: str
    description: str | None
    active: bool
    edited: bool
    updated_at: datetime | None


def in_force(*, uow: UnitOfWork) -> list[Entry]:
    """The tenant's catalogue: the defaults, with the tenant's edits and additions, by code."""
    entries = {code: Entry(code, label, None, True, False, None) for code, label in DEFAULTS.items()}
    for row in repository.edited_types(session=uow.session):
        entries[row.code] = Entry(row.code, row.label, row.description, row.active, True, row.updated_at)
    return sorted(entries.values(), key=lambda e: e.code)


def require_active(*, uow: UnitOfWork, codes: set[str]) -> None:
    """Refuses (422) codes that are not active types of the tenant's catalogue."""
    active = {e.code for e in in_force(uow=uow) if e.active}
    if unknown := sorted(codes - active):
        raise ValidationFailed(f"Not an active intervention type of this tenant: {', '.join(unknown)}.")


def put(*, uow: UnitOfWork, principal: TenantPrincipal, code: str, label: str, description: str | None,
        active: bool, at: datetime) -> Entry:
    """Adds a type to the tenant's catalogue, or changes its wording or whether it is in use (kept and published)."""
    previous = next((e for e in in_force(uow=uow) if e.code == code), None)
    row = repository.put_type(session=uow.session, row=InterventionType(
        tenant_id=uow.tenant, code=code, label=label, description=description, active=active,
        updated_at=at, updated_by=principal.actor,
    ))
    history.type_changed(uow=uow, principal=principal, code=code, at=at,
                         previous=None if previous is None else _wording(previous),
                         value={"label": label, "description": description, "active": active})
    return Entry(row.code, row.label, row.description, row.active, True, row.updated_at)


def _wording(entry: Entry) -> dict[str, str | bool | None]:
    return {"label": entry.label, "description": entry.description, "active": entry.active}

"""Partner organisations act under agreements: their clients and people hold outside-party roles only.

A CSO, agency or intervention provider reaches a county's data through the agreements that name it
(harambee_common.agreements). Given a staff role (a case worker's, an intake officer's), its
client or person would bypass every agreement, so the admin API refuses one unless an
administrator overrides the rule with a reason; each override is published as an event.
A `programme` organisation is the county's own programme: its staff hold staff roles.
"""

from __future__ import annotations

import uuid

from harambee_common.catalogue import registry as catalogue
from harambee_common.db import UnitOfWork
from harambee_common.permissions import PARTNER_ORGANISATION_KINDS, PARTNER_ROLES
from harambee_common.problems import ValidationFailed
from harambee_gateway.events import publish
from harambee_gateway.models import Organisation
from harambee_gateway.schemas import StaffRoleOverride


def staff_roles(*, organisation: Organisation | None, roles: list[str]) -> list[str]:
    """The roles among these that a partner organisation's member may hold only by an override."""
    if organisation is None or organisation.kind not in PARTNER_ORGANISATION_KINDS:
        return []
    return sorted(set(roles) - PARTNER_ROLES)


def check_roles(*, organisation: Organisation | None, roles: list[str], override: StaffRoleOverride | None) -> None:
    """Refuses staff roles for a partner organisation's client or person, unless overridden."""
    if organisation is None or override is not None:
        return
    if staff := staff_roles(organisation=organisation, roles=roles):
        raise ValidationFailed(
            f"{organisation.slug!r} is a partner organisation ({organisation.kind}): its clients and people act "
            f"under agreements, as partner or intervention_provider, not as {', '.join(staff)}. To make an "
            "exception, give staff_role_override with a reason."
        )


def record_override(
    *,
    uow: UnitOfWork,
    organisation: Organisation | None,
    tenant: str,
    roles: list[str],
    override: StaffRoleOverride | None,
    actor: str,
    client_id: str | None = None,
    person_id: uuid.UUID | None = None,
) -> None:
    """Publishes an override that let staff roles through (nothing when none was needed)."""
    staff = staff_roles(organisation=organisation, roles=roles)
    if not staff or override is None or organisation is None:
        return
    allowed = catalogue.PartnerStaffRoleAllowed(
        tenant=tenant, organisation=organisation.slug, roles=staff, client_id=client_id, person_id=person_id,
        reason=override.reason, actor=actor,
    )
    publish(uow, allowed, tenant=tenant, subject=client_id or str(person_id))

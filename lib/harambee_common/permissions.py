"""The scopes a token may carry and the roles a principal may hold in a tenant: one list for everyone.

The gateway grants and documents them, every service checks them, and CONVENTIONS.md lists them.
Both are `StrEnum`s, so a member is the very string that travels in the token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Scope(StrEnum):
    """What a token lets a client do at all; roles then decide where and on what."""

    referrals_write = "referrals:write"
    referrals_read = "referrals:read"
    cases_read = "cases:read"
    # County staff who work cases: information requests, assignments, assessments, frameworks.
    cases_write = "cases:write"
    # The multi-agency panel: members read their meetings' agendas; the chair or secretary records decisions.
    panel_read = "panel:read"
    panel_write = "panel:write"
    # A partner agency's system: the information requests addressed to its organisation, and its answers.
    information_requests_answer = "information_requests:answer"
    audit_read = "audit:read"
    aggregates_read = "aggregates:read"
    registry_read = "registry:read"
    registry_admin = "registry:admin"
    # Intervention tracking: county staff plan, review and close support; providers see and record their tasks.
    plans_write = "plans:write"
    tasks_read = "tasks:read"
    tasks_write = "tasks:write"


class Role(StrEnum):
    """What a principal is in one tenant."""

    intake_officer = "intake_officer"
    case_worker = "case_worker"
    panel_member = "panel_member"
    assessor = "assessor"
    intervention_provider = "intervention_provider"
    programme_manager = "programme_manager"
    national_coordinator = "national_coordinator"
    compliance_officer = "compliance_officer"
    platform_admin = "platform_admin"
    # Machine clients only: a partner organisation's system, or a Harambee service.
    partner = "partner"
    service = "service"


# Roles that only machine clients hold; people are granted the others.
CLIENT_ONLY_ROLES = frozenset({Role.partner, Role.service})
# Roles whose holders can put a name back on a pseudonymous subject (intake's vault: re-identification,
# access exports); a person holding one signs in with a second factor, whatever their tenant requires.
REIDENTIFYING_ROLES = frozenset({Role.intake_officer})
# Roles a person holds only with a second factor: those above, and platform administration.
SECOND_FACTOR_ROLES = REIDENTIFYING_ROLES | {Role.platform_admin}
# The roles of outside parties: their systems and people reach a county's data only under agreements.
PARTNER_ROLES = frozenset({Role.partner, Role.intervention_provider})
# Kinds of registry organisation that are outside parties (a `programme` is a county's own programme): their
# clients and people act under agreements whatever roles they hold (the token's `org_kind` says which).
PARTNER_ORGANISATION_KINDS = frozenset({"cso", "agency", "provider"})

# The same lists as string literals, for Pydantic models and so the OpenAPI documents (an enum there
# would become a named schema, and change what partners' generated clients call it).
ScopeName = Literal[tuple(s.value for s in Scope)]  # type: ignore[valid-type]
PersonRoleName = Literal[tuple(r.value for r in Role if r not in CLIENT_ONLY_ROLES)]  # type: ignore[valid-type]
ClientRoleName = Literal[tuple(r.value for r in Role)]  # type: ignore[valid-type]

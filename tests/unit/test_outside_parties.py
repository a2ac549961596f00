"""Who is an outside party, bound by agreements: decided by the organisation, not by the role's name."""

from __future__ import annotations

from harambee_common.agreements import Party, party_of
from harambee_common.auth import Principal, TenantPrincipal


def acting(roles: set[str], *, org: str | None, kind: str | None) -> TenantPrincipal:
    principal = Principal(subject="c", client_id="c", scopes=frozenset(), tenants={"ke-mombasa": frozenset(roles)},
                          organisation=org, organisation_kind=kind)
    return TenantPrincipal(principal=principal, tenant="ke-mombasa")


def test_a_partner_organisations_client_with_an_overridden_staff_role_still_acts_under_agreements():
    assert party_of(acting({"case_worker"}, org="mombasa-youth-cso", kind="cso")) == Party(
        "organisation", "mombasa-youth-cso")
    assert party_of(acting({"intake_officer"}, org="mombasa-health", kind="agency")) == Party(
        "organisation", "mombasa-health")


def test_the_countys_own_programme_is_staff_and_partner_roles_are_outside_parties_whatever_the_token():
    assert party_of(acting({"case_worker"}, org="mombasa-county-programme", kind="programme")) is None
    assert party_of(acting({"case_worker"}, org=None, kind=None)) is None
    # A token from before the gateway wrote the kind: the role decides, as it did.
    assert party_of(acting({"partner"}, org="mombasa-youth-cso", kind=None)) == Party(
        "organisation", "mombasa-youth-cso")

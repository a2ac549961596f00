"""The demo registry: three tenants, two organisations and three machine clients in Mombasa."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from harambee_gateway import repository, service
from harambee_gateway.schemas import DemoClient

TENANTS = (
    ("ke-mombasa", "Mombasa County referral programme", "county"),
    ("ke-nairobi", "Nairobi County referral programme", "county"),
    ("ke-national", "National P/CVE programme", "national"),
)
ORGANISATIONS = (
    ("mombasa-youth-cso", "Mombasa Youth Empowerment CSO", "cso"),
    ("mombasa-county-programme", "Mombasa County referral programme", "programme"),
)


@dataclass(frozen=True)
class DemoClientSpec:
    """A demo client and the one grant it holds."""

    name: str
    organisation: str | None
    tenant: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]


CLIENTS = (
    DemoClientSpec(
        name="mombasa-youth-cso-system",
        organisation="mombasa-youth-cso",
        tenant="ke-mombasa",
        roles=("partner",),
        scopes=("referrals:write", "referrals:read"),
    ),
    DemoClientSpec(
        name="mombasa-case-worker",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=("case_worker",),
        scopes=("referrals:read", "cases:read"),
    ),
    DemoClientSpec(
        name="mombasa-compliance",
        organisation="mombasa-county-programme",
        tenant="ke-mombasa",
        roles=("compliance_officer",),
        scopes=("audit:read",),
    ),
)


def seed_demo(*, db_session: Session) -> list[DemoClient]:
    """Creates or updates the demo registry and gives every demo client a fresh secret."""
    for slug, name, kind in TENANTS:
        service.ensure_tenant(db_session=db_session, slug=slug, name=name, kind=kind)
    for slug, name, kind in ORGANISATIONS:
        service.ensure_organisation(db_session=db_session, slug=slug, name=name, kind=kind)
    issued: list[DemoClient] = []
    for spec in CLIENTS:
        existing = repository.get_client_by_name(db_session=db_session, name=spec.name)
        if existing is None:
            credentials = service.register_client(
                db_session=db_session, name=spec.name, organisation=spec.organisation
            )
        else:
            credentials = service.rotate_client_secret(db_session=db_session, client=existing)
        service.set_grant(
            db_session=db_session,
            client_id=credentials.client_id,
            tenant=spec.tenant,
            roles=list(spec.roles),
            scopes=list(spec.scopes),
        )
        issued.append(
            DemoClient(
                name=spec.name,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                tenant=spec.tenant,
                scope=" ".join(spec.scopes),
            )
        )
    return issued

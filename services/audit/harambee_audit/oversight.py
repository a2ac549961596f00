"""National compliance: which county tenants' logs a compliance officer of a national tenant may read.

The rule belongs to the data-sharing agreements (a county's agreement with the national programme
permitting it to read the county's audit log). Until the audit service keeps its copy of them, an
interim policy answers from configuration, or from the token: `AUDIT_OVERSIGHT` maps a national
tenant to its counties (`ke-national=ke-mombasa,ke-nairobi;...`) and, where it names the national
tenant, is authoritative; otherwise the token's `oversees` claim (national tenant -> counties) is used.
Everything else in the service asks only `allowed_tenants(principal)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from harambee_common.auth import Principal

ROLE = "compliance_officer"


class OversightPolicy(Protocol):
    """Answers which other tenants' audit logs a principal may read."""

    def allowed_tenants(self, principal: Principal) -> set[str]:
        """The county tenants whose logs the principal's national compliance roles cover."""
        ...


def acting_from(principal: Principal) -> list[str]:
    """The tenants in which the principal is a compliance officer (where an oversight read comes from)."""
    return sorted(t for t, roles in principal.tenants.items() if ROLE in roles)


@dataclass(frozen=True)
class InterimOversight:
    """A configured mapping where it names the national tenant, else the token's `oversees` claim."""

    mapping: dict[str, frozenset[str]] = field(default_factory=dict)

    def allowed_tenants(self, principal: Principal) -> set[str]:
        """The counties overseen from every tenant where the principal is a compliance officer."""
        allowed: set[str] = set()
        for tenant, roles in principal.tenants.items():
            if ROLE not in roles:
                continue
            counties = self.mapping[tenant] if tenant in self.mapping else principal.oversees.get(tenant, ())
            allowed.update(counties)
        return allowed

    @classmethod
    def parse(cls, text: str | None) -> InterimOversight:
        """Reads `national=county,county;national=county` (empty: no mapping)."""
        mapping: dict[str, frozenset[str]] = {}
        for part in (text or "").split(";"):
            national, sep, counties = part.partition("=")
            if not part.strip():
                continue
            if not sep or not national.strip():
                raise ValueError(f"AUDIT_OVERSIGHT: expected national=county,county, got {part!r}")
            mapping[national.strip()] = frozenset(c.strip() for c in counties.split(",") if c.strip())
        return cls(mapping)

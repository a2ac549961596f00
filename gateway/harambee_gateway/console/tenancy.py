"""The tenant a console page is about, and whether the person's roles open that kind of page."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path

from harambee_gateway.console.dependencies import Refused
from harambee_gateway.console.pages import Visitor

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
TenantPath = Annotated[str, Path(description="the tenant's slug")]


def checked_tenant(tenant: str) -> str:
    """The slug, or a 404 for anything that cannot be one."""
    if not SLUG.match(tenant):
        raise Refused(404)
    return tenant


def require_role_in(person: Visitor, tenant: str, role: str) -> None:
    """404 unless the person holds the role in that tenant: like the services, nothing is revealed."""
    assert person.principal is not None
    if role not in person.principal.roles_in(tenant):
        raise Refused(404)


def require_role_anywhere(person: Visitor, role: str) -> None:
    """404 unless the person holds the role somewhere (the API then decides which tenants it may read)."""
    assert person.principal is not None
    if not any(role in roles for roles in person.principal.tenants.values()):
        raise Refused(404)

"""The one cross-tenant query: which counties have an agreement naming a tenant (nothing else of them)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session


def tenants_sharing_with(*, session: Session, party: str) -> list[str]:
    """The tenants whose agreement copies name `party` as a tenant party, in any status (sorted)."""
    return sorted(session.scalars(sa.text("SELECT * FROM tenants_sharing_with(:party)"), {"party": party}))

"""Every query about a tenant's intervention-tracking settings."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_interventions.models import TenantSettings


def get_settings(*, session: Session) -> TenantSettings | None:
    """The tenant's settings row, if it has changed the defaults."""
    return session.scalar(sa.select(TenantSettings))


def put_settings(*, session: Session, row: TenantSettings) -> None:
    """Replaces the tenant's settings."""
    values = {c: getattr(row, c) for c in ("tenant_id", "stall_days", "review_interval_months", "follow_up_months",
                                             "updated_at", "updated_by")}
    session.execute(insert(TenantSettings).values(**values).on_conflict_do_update(
        index_elements=[TenantSettings.tenant_id], set_={k: v for k, v in values.items() if k != "tenant_id"}))

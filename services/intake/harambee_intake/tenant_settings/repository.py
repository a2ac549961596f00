"""Every query about a tenant's settings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import (
    TenantSetting,
)


def get_setting(*, session: Session, name: str) -> TenantSetting | None:
    """The tenant's value of one setting."""
    return session.scalar(sa.select(TenantSetting).where(TenantSetting.name == name))


def put_setting(
    *, session: Session, tenant: str, name: str, value: dict, version: int, by: str, at: datetime
) -> TenantSetting:
    """Stores the tenant's value of one setting."""
    row = get_setting(session=session, name=name)
    if row is None:
        row = TenantSetting(tenant_id=tenant, name=name)
        session.add(row)
    row.value, row.version, row.updated_by, row.updated_at = value, version, by, at
    session.flush()
    return row

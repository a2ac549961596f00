"""Every query about the tenant's intervention types."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_interventions.models import InterventionType


def edited_types(*, session: Session) -> list[InterventionType]:
    """The tenant's edited and added types."""
    return list(session.scalars(sa.select(InterventionType).order_by(InterventionType.code)))


def edited_type(*, session: Session, code: str) -> InterventionType | None:
    """The tenant's version of one type, if it has one."""
    return session.scalar(sa.select(InterventionType).where(InterventionType.code == code))


def put_type(*, session: Session, row: InterventionType) -> InterventionType:
    """Adds or replaces the tenant's version of a type."""
    values = {c: getattr(row, c) for c in ("tenant_id", "code", "label", "description", "active", "updated_at",
                                             "updated_by")}
    statement = insert(InterventionType).values(**values).on_conflict_do_update(
        index_elements=[InterventionType.tenant_id, InterventionType.code],
        set_={k: v for k, v in values.items() if k not in ("tenant_id", "code")},
    ).returning(InterventionType)
    return session.scalars(statement, execution_options={"populate_existing": True}).one()

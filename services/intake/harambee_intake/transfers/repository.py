"""Every query about handing a person to another tenant."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_intake.models import (
    Subject,
)


def move_subject(
    *, session: Session, subject: Subject, to_tenant: str, wrapped: bytes | None, generation: int,
    kek_id: str | None,
) -> bool:
    """Gives a subject of the transaction's tenant to another tenant, with its key wrapped for it.

    Row-level security forbids a plain UPDATE of tenant_id; the migration's function is the one
    crossing, and only ever gives away a row of the tenant the transaction is scoped to.
    """
    moved = session.scalar(sa.select(sa.func.intake_move_subject(
        subject.id, to_tenant, wrapped, generation, kek_id)))
    # The object now describes a row this tenant cannot see: never serve it from the identity map.
    session.expunge(subject)
    return bool(moved)

"""The queries of due reassessments."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_assessment.models import Case
from harambee_common.pagination import Keyset, Slice, paginate

# Soonest first; the partial index cases_reassessment_due serves it.
DUE = Keyset(columns=(Case.reassessment_due_on, Case.id), types=(date, uuid.UUID))


def due(*, session: Session, where: sa.ColumnElement[bool], by: date, overdue_on: date | None, cursor: str | None,
        limit: int) -> Slice[Case]:
    """A page of cases due for reassessment on or before `by` (before `overdue_on`, if given)."""
    query = sa.select(Case).where(Case.reassessment_due_on.is_not(None), Case.reassessment_due_on <= by, where)
    if overdue_on is not None:
        query = query.where(Case.reassessment_due_on < overdue_on)
    return paginate(session, query, keyset=DUE, cursor=cursor, limit=limit)

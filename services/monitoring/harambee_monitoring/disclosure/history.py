"""What each suppressed release withheld, so that a later release of the same months withholds it too.

Two releases of the same month made at different times differ: the month's referrals move on through the
stages, and complementary cells are chosen afresh. A cell withheld in one and published in the other (with
its neighbours unchanged) would give the first one's value away by subtraction. So the suppression pattern
is monotone: every cell once withheld from a reader under an agreement — a month's cell, or a window's
total — is withheld from every later release under that agreement, and complementary suppression starts
from it (suppression.protect's `withheld`). Later releases withhold at least as much, never less; each
release on its own is still checked to leave every withheld cell an interval.

The history is per county (the rows are the county's, under its row-level security), agreement and unit
counted (`referrals`, `reassessments`, `transfers`); a new agreement starts afresh, as it is a new decision
to share. A window's totals are remembered under the window (`all:2026-01..2026-03`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_monitoring.indicators.grid import ALL, Cell, Grid
from harambee_monitoring.models import WithheldCell


def _stored_month(grid: Grid, month: str) -> str:
    return f"{ALL}:{grid.months[0]}..{grid.months[-1]}" if month == ALL else month


def withheld_before(*, session: Session, agreement_id: uuid.UUID, grid: Grid) -> set[Cell]:
    """The grid's cells withheld by an earlier release under the agreement (in the session's tenant). Serialises
    the releases of one agreement and unit, so that two at once cannot choose different patterns."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"withheld:{agreement_id}:{grid.unit}"})
    months = {_stored_month(grid, m): m for m in [*grid.months, ALL]}
    rows = session.execute(sa.select(WithheldCell.partition, WithheldCell.month, WithheldCell.category).where(
        WithheldCell.agreement_id == agreement_id, WithheldCell.unit == grid.unit,
        WithheldCell.month.in_(list(months))))
    return {(p, months[m], k) for p, m, k in rows if (p, months[m], k) in grid.counts}


def remember(*, session: Session, tenant: str, agreement_id: uuid.UUID, grid: Grid, cells: set[Cell],
             at: datetime) -> None:
    """Records the cells a release withheld (those already recorded are kept as they were)."""
    if not cells:
        return
    # One statement with the rows as parameters (executed as multi-row inserts): its SQL compiles once and is
    # cached, where rows inlined with .values() compile anew for every size of release.
    session.execute(insert(WithheldCell.__table__).on_conflict_do_nothing(), [
        {"tenant_id": tenant, "agreement_id": agreement_id, "unit": grid.unit, "partition": p,
         "month": _stored_month(grid, m), "category": k, "first_withheld_at": at} for p, m, k in sorted(cells)
    ])

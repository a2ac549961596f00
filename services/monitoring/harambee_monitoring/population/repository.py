"""Every query of population figures and the disparity threshold."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_monitoring.models import DisparitySetting, PopulationFigure

DEFAULT_THRESHOLD = Decimal("2.00")


def replace_figures(*, session: Session, tenant: str, dimension: str, groups: dict[str, int], source: str,
                    actor: str, at: datetime) -> None:
    """Replaces a dimension's figures with these."""
    session.execute(sa.delete(PopulationFigure).where(PopulationFigure.dimension == dimension))
    session.add_all(PopulationFigure(tenant_id=tenant, dimension=dimension, group_key=key, population=n,
                                     source=source, recorded_by=actor, recorded_at=at)
                    for key, n in groups.items())


def figures(*, session: Session, dimension: str | None = None) -> list[PopulationFigure]:
    """The tenant's figures (of one dimension, or all)."""
    query = sa.select(PopulationFigure).order_by(PopulationFigure.dimension, PopulationFigure.group_key)
    if dimension is not None:
        query = query.where(PopulationFigure.dimension == dimension)
    return list(session.scalars(query))


def threshold(*, session: Session) -> Decimal:
    """The tenant's disparity threshold (2 unless it set one)."""
    return session.scalar(sa.select(DisparitySetting.threshold)) or DEFAULT_THRESHOLD


def set_threshold(*, session: Session, tenant: str, value: float, actor: str, at: datetime) -> None:
    """Sets the tenant's disparity threshold."""
    values = {"threshold": Decimal(str(value)), "recorded_by": actor, "recorded_at": at}
    session.execute(insert(DisparitySetting).values(tenant_id=tenant, **values)
                    .on_conflict_do_update(index_elements=["tenant_id"], set_=values))

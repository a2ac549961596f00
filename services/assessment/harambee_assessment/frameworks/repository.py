"""Every query about frameworks and their versions."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from harambee_assessment.models import Framework, FrameworkVersion
from harambee_common.pagination import Keyset, Slice, paginate

FRAMEWORKS = Keyset(columns=(Framework.created_at, Framework.id), types=(datetime, uuid.UUID))


def add_framework_once(*, session: Session, framework: Framework) -> Framework | None:
    """Stores a framework unless the tenant has one of that code; returns it if it was stored."""
    values = {c.key: getattr(framework, c.key) for c in Framework.__table__.columns}
    stored = session.scalar(insert(Framework).values(**values)
                            .on_conflict_do_nothing(constraint="frameworks_code").returning(Framework.id))
    return framework if stored is not None else None


def add_version(*, session: Session, version: FrameworkVersion) -> None:
    """Stores a new version."""
    session.add(version)
    session.flush()


def get_framework(*, session: Session, framework_id: uuid.UUID) -> Framework | None:
    """A framework of the tenant by its id."""
    return session.get(Framework, framework_id)


def list_frameworks(*, session: Session, cursor: str | None, limit: int) -> Slice[Framework]:
    """A page of the tenant's frameworks, oldest first."""
    return paginate(session, sa.select(Framework), keyset=FRAMEWORKS, cursor=cursor, limit=limit)


def has_frameworks(*, session: Session) -> bool:
    """Whether the tenant has any framework yet."""
    return bool(session.scalar(sa.select(sa.exists().where(Framework.id.is_not(None)))))


def versions_of(*, session: Session, framework_ids: list[uuid.UUID]) -> list[FrameworkVersion]:
    """Every version of these frameworks, by framework and version."""
    if not framework_ids:
        return []
    return list(session.scalars(sa.select(FrameworkVersion).where(FrameworkVersion.framework_id.in_(framework_ids))
                                .order_by(FrameworkVersion.framework_id, FrameworkVersion.version)))


def get_version(*, session: Session, framework_id: uuid.UUID, version: int,
                for_update: bool = False) -> FrameworkVersion | None:
    """One version of a framework of the tenant."""
    query = sa.select(FrameworkVersion).where(FrameworkVersion.framework_id == framework_id,
                                              FrameworkVersion.version == version)
    return session.scalar(query.with_for_update() if for_update else query)


def latest_version_number(*, session: Session, framework_id: uuid.UUID) -> int:
    """The highest version number of a framework (0 if none)."""
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(FrameworkVersion.version), 0))
                              .where(FrameworkVersion.framework_id == framework_id)))


def latest_published(*, session: Session) -> list[FrameworkVersion]:
    """The latest published version of each of the tenant's frameworks."""
    latest = (sa.select(FrameworkVersion.framework_id, sa.func.max(FrameworkVersion.version))
              .where(FrameworkVersion.status == "published").group_by(FrameworkVersion.framework_id))
    return list(session.scalars(sa.select(FrameworkVersion).where(
        sa.tuple_(FrameworkVersion.framework_id, FrameworkVersion.version).in_(latest))))

"""Who may read which case, and the record every read leaves.

- Compliance officers read every case of their tenant, withdrawn ones included.
- A case whose consent to support was withdrawn is readable by compliance officers only.
- Case workers, intake officers and programme managers read the tenant's other cases.
- An assessor reads only the cases assigned to them.
- A panel member reads only the cases on the agendas of the meetings they attend (panel routes).

A case the caller may not read is answered as if it did not exist (404), so its existence is not
revealed. Every read of a case, an assessment or a decision is recorded (`access.recorded`) in the
reading transaction, before the data leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from harambee_assessment.events import EVENTS
from harambee_assessment.models import AgendaItem, Case, CaseAssignment, PanelMember
from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.permissions import Role

# Roles that read every case of the tenant but the withdrawn ones.
ALL_CASES = frozenset({Role.case_worker, Role.intake_officer, Role.programme_manager})


def readable(principal: TenantPrincipal) -> sa.ColumnElement[bool]:
    """The condition on `cases` that admits exactly the cases the principal may read."""
    roles = principal.roles
    if Role.compliance_officer in roles:
        return sa.true()
    ways: list[sa.ColumnElement[bool]] = []
    if roles & ALL_CASES:
        ways.append(sa.true())
    if Role.assessor in roles:
        ways.append(sa.exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.assessor == principal.actor))
    if Role.panel_member in roles:
        ways.append(sa.exists().where(
            AgendaItem.case_id == Case.id, PanelMember.meeting_id == AgendaItem.meeting_id,
            PanelMember.person == principal.actor,
        ))
    if not ways:
        return sa.false()
    return sa.and_(Case.status != "withdrawn", sa.or_(*ways))


def record_case_read(*, uow: UnitOfWork, principal: TenantPrincipal, case: Case, resource: str,
                     fields: Iterable[str], purpose: str = "case-management") -> None:
    """Records a read of a case or of what it holds (assessments, decisions, requests)."""
    EVENTS.record_access(
        uow, principal=principal,
        # A case minimised after a transfer no longer names a person: its read is filed under the case.
        subject=str(case.subject_ref) if case.subject_ref else f"case/{case.id}",
        resource=resource, fields=fields, purpose=purpose,
    )


def case_resource(case_id: uuid.UUID) -> str:
    """How a case is named in access records."""
    return f"case/{case_id}"

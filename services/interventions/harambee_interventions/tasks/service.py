"""A provider's work on its own tasks: list them, record sessions and progress.

The caller's provider (and practitioner) comes from its token (`providers.service.acting_provider`);
every lookup is scoped to it, so another provider's task is a 404, as if it did not exist. A task that
is not open takes no more records (409). Sessions the person attended count as contact for the stalled
check (`last_session_on`); a missed one is recorded but is not contact. Every session and progress update
publishes an event (references and codes; the note stays here). What a provider reads is cut to the
fields its agreement names (`sharing`), and every read is recorded under the person's subject reference,
which the provider never sees, with the fields disclosed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.interventions import ProgressRecorded, SessionRecorded
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.problems import Conflict, ValidationFailed, or_not_found
from harambee_interventions.auth import READ_TASKS, RECORD_SESSIONS
from harambee_interventions.events import EVENTS
from harambee_interventions.models import ProgressUpdate, SessionRecord, Task
from harambee_interventions.providers.service import Acting, acting_provider
from harambee_interventions.tasks import repository, sharing
from harambee_interventions.tasks.schemas import ProviderSessionView, TaskView
from harambee_interventions.tasks.views import provider_session_view, provider_view


def page(*, uow: UnitOfWork, principal: TenantPrincipal, status: str | None, at: datetime, cursor: str | None,
         limit: int) -> Slice[TaskView]:
    """A page of the caller's own tasks it may be given, newest first (of one status if asked); reads are recorded."""
    acting = acting_provider(uow=uow, principal=principal)
    found = repository.list_tasks(session=uow.session, provider_id=acting.provider.provider_id,
                                  practitioner_id=_practitioner(acting), status=status,
                                  consented_to=sharing.consent_needed_from(principal), at=at, cursor=cursor,
                                  limit=limit)
    return Slice(rows=[_disclose(uow=uow, principal=principal, task=t) for t in found.rows],
                 next_cursor=found.next_cursor)


def one(*, uow: UnitOfWork, principal: TenantPrincipal, task_id: uuid.UUID, at: datetime) -> TaskView:
    """One of the caller's own tasks; the read is recorded."""
    task, _ = _own_task(uow=uow, principal=principal, task_id=task_id, operation=READ_TASKS, at=at)
    return _disclose(uow=uow, principal=principal, task=task)


def sessions(*, uow: UnitOfWork, principal: TenantPrincipal, task_id: uuid.UUID, at: datetime, cursor: str | None,
             limit: int) -> Slice[ProviderSessionView]:
    """A page of the sessions of one of the caller's tasks, newest first (none once it is stopped)."""
    task, _ = _own_task(uow=uow, principal=principal, task_id=task_id, operation=READ_TASKS, at=at)
    if task.status == "stopped":
        return Slice(rows=[], next_cursor=None)
    found = repository.list_sessions(session=uow.session, task_id=task_id, cursor=cursor, limit=limit)
    shown = [provider_session_view(s, principal.agreement) for s in found.rows]
    EVENTS.record_access(uow, principal=principal, subject=str(task.subject_ref), resource=f"task/{task_id}/sessions",
                         fields=sorted({f for s in shown for f in s.fields}), purpose="intervention-delivery")
    return Slice(rows=[s.view for s in shown], next_cursor=found.next_cursor)


def record_session(*, uow: UnitOfWork, principal: TenantPrincipal, task_id: uuid.UUID, held_on: date,
                   duration_minutes: int, attended: bool, note: str | None, at: datetime) -> SessionRecord:
    """Records a session of an open task and publishes `session.recorded`."""
    task, acting = _own_task(uow=uow, principal=principal, task_id=task_id, operation=RECORD_SESSIONS, at=at,
                             for_update=True)
    _require_open(task)
    if held_on > at.date():
        raise ValidationFailed("A session cannot be recorded before it is held (held_on is in the future).")
    if held_on < task.starts_on:
        raise ValidationFailed(f"The task starts on {task.starts_on}: a session before it is not of this task.")
    record = SessionRecord(session_id=uuid.uuid4(), tenant_id=uow.tenant, task_id=task_id, held_on=held_on,
                           duration_minutes=duration_minutes, attended=attended, note=note, recorded_at=at,
                           recorded_by=principal.actor)
    repository.add(session=uow.session, row=record)
    if attended and (task.last_session_on is None or held_on > task.last_session_on):
        task.last_session_on = held_on
    EVENTS.publish(uow, SessionRecorded(
        session_id=record.session_id, task_id=task_id, case_id=task.case_id, subject_ref=task.subject_ref,
        provider=acting.provider.provider_id, intervention_type=task.intervention_type, held_on=held_on,
        duration_minutes=duration_minutes, attended=attended, recorded_at=at,
    ), subject=str(task.subject_ref))
    return record


def record_progress(*, uow: UnitOfWork, principal: TenantPrincipal, task_id: uuid.UUID, rating: str,
                    note: str | None, at: datetime) -> ProgressUpdate:
    """Records progress towards an open task's goal and publishes `progress.recorded`."""
    task, acting = _own_task(uow=uow, principal=principal, task_id=task_id, operation=RECORD_SESSIONS, at=at,
                             for_update=True)
    _require_open(task)
    update = ProgressUpdate(progress_id=uuid.uuid4(), tenant_id=uow.tenant, task_id=task_id, rating=rating,
                            note=note, recorded_at=at, recorded_by=principal.actor)
    repository.add(session=uow.session, row=update)
    task.last_progress_at = at
    EVENTS.publish(uow, ProgressRecorded(
        progress_id=update.progress_id, task_id=task_id, case_id=task.case_id, subject_ref=task.subject_ref,
        provider=acting.provider.provider_id, intervention_type=task.intervention_type, rating=rating, recorded_at=at,
    ), subject=str(task.subject_ref))
    return update


def _own_task(*, uow: UnitOfWork, principal: TenantPrincipal, task_id: uuid.UUID, operation: str, at: datetime,
              for_update: bool = False) -> tuple[Task, Acting]:
    """One of the caller's tasks (404 if it is not), refused (403) where its agreement needs a consent not given."""
    acting = acting_provider(uow=uow, principal=principal)
    task = or_not_found(repository.get_task(session=uow.session, task_id=task_id,
                                            provider_id=acting.provider.provider_id,
                                            practitioner_id=_practitioner(acting), for_update=for_update),
                        "No such task.")
    sharing.require_consent(uow=uow, principal=principal, task=task, operation=operation, at=at)
    return task, acting


def _practitioner(acting: Acting) -> uuid.UUID | None:
    return acting.practitioner.practitioner_id if acting.practitioner else None


def _require_open(task: Task) -> None:
    if task.status != "open":
        raise Conflict(f"The task is {task.status}: nothing more can be recorded on it.")


def _disclose(*, uow: UnitOfWork, principal: TenantPrincipal, task: Task) -> TaskView:
    """The provider's view of a task, the read recorded with the fields it discloses."""
    shown = provider_view(task, principal.agreement)
    EVENTS.record_access(uow, principal=principal, subject=str(task.subject_ref), resource=f"task/{task.task_id}",
                         fields=shown.fields, purpose="intervention-delivery")
    return shown.view

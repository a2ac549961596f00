"""The providers' routes: their own tasks, and the sessions and progress they record."""

from __future__ import annotations

import uuid

from fastapi import status

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import TasksRead, TasksWrite
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.tasks import service
from harambee_interventions.tasks.schemas import (
    ProgressIn,
    ProgressView,
    ProviderSessionPage,
    SessionIn,
    SessionView,
    TaskPage,
    TaskStatus,
    TaskView,
)

router = tenant_router(tags=["tasks"], responses=problem_responses(401, 403, 404, 422))


@router.get("/tasks", response_model=TaskPage)
def list_tasks(
    principal: TasksRead, uow: UnitOfWorkDep, clock: ClockDep, status: TaskStatus | None = None, limit: Limit = 50,
    cursor: Cursor = None,
) -> TaskPage:
    """The caller's own tasks (its organisation's, or a practitioner's own), newest first; `status=open` for work."""
    found = service.page(uow=uow, principal=principal, status=status, at=clock.now(), cursor=cursor, limit=limit)
    return TaskPage(items=found.rows, next_cursor=found.next_cursor)


@router.get("/tasks/{task_id}", response_model=TaskView)
def get_task(task_id: uuid.UUID, principal: TasksRead, uow: UnitOfWorkDep, clock: ClockDep) -> TaskView:
    """One of the caller's own tasks (403 `consent-required` where its agreement needs the person's consent)."""
    return service.one(uow=uow, principal=principal, task_id=task_id, at=clock.now())


@router.get("/tasks/{task_id}/sessions", response_model=ProviderSessionPage)
def list_sessions(
    task_id: uuid.UUID, principal: TasksRead, uow: UnitOfWorkDep, clock: ClockDep, limit: Limit = 50,
    cursor: Cursor = None,
) -> ProviderSessionPage:
    """The sessions recorded on one of the caller's tasks, newest first (none once the task is stopped)."""
    found = service.sessions(uow=uow, principal=principal, task_id=task_id, at=clock.now(), cursor=cursor,
                             limit=limit)
    return ProviderSessionPage(items=found.rows, next_cursor=found.next_cursor)


@router.post("/tasks/{task_id}/sessions", response_model=SessionView, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
def record_session(
    task_id: uuid.UUID, body: SessionIn, principal: TasksWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> SessionView:
    """Records a session of an open task: its day, length, whether the person came, and a short note."""
    record = service.record_session(uow=uow, principal=principal, task_id=task_id, held_on=body.held_on,
                                    duration_minutes=body.duration_minutes, attended=body.attended, note=body.note,
                                    at=clock.now())
    return SessionView.model_validate(record)


@router.post("/tasks/{task_id}/progress", response_model=ProgressView, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409))
def record_progress(
    task_id: uuid.UUID, body: ProgressIn, principal: TasksWrite, uow: UnitOfWorkDep, clock: ClockDep,
) -> ProgressView:
    """Records progress towards an open task's goal."""
    update = service.record_progress(uow=uow, principal=principal, task_id=task_id, rating=body.rating,
                                     note=body.note, at=clock.now())
    return ProgressView.model_validate(update)

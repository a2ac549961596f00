"""How a provider sees its tasks and their sessions: cut to its agreement's fields; a stopped task, its status only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from harambee_common.agreements import Agreement
from harambee_interventions.models import SessionRecord, Task
from harambee_interventions.tasks import sharing
from harambee_interventions.tasks.schemas import ProviderSessionView, TaskView

View = TypeVar("View")


@dataclass(frozen=True)
class Disclosed(Generic[View]):
    """A view as the provider is given it, and the fields (by the agreement's names) it discloses."""

    view: View
    fields: list[str]


def provider_view(task: Task, agreement: Agreement | None) -> Disclosed[TaskView]:
    """The provider's view of one of its tasks (never the subject reference, the need or the case)."""
    if task.status == "stopped":
        return Disclosed(TaskView(task_id=task.task_id, status="stopped", reference=None, goal=None,
                                  intervention_type=None, practitioner_id=None, starts_on=None, expected_end_on=None,
                                  last_session_on=None), ["status", "task_id"])
    data = {name: getattr(task, name) for name in sharing.TASK_FIELDS}
    kept, fields = sharing.projected(agreement, data, sharing.TASK_FIELDS, sharing.TASK_ALWAYS)
    return Disclosed(TaskView(**kept), fields)


def provider_session_view(record: SessionRecord, agreement: Agreement | None) -> Disclosed[ProviderSessionView]:
    """The provider's view of a session recorded on one of its tasks."""
    data = {name: getattr(record, name) for name in sharing.SESSION_FIELDS}
    kept, fields = sharing.projected(agreement, data, sharing.SESSION_FIELDS, sharing.SESSION_ALWAYS)
    return Disclosed(ProviderSessionView(**kept), fields)

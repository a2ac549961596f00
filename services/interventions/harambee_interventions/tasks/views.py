"""How a provider sees a task: the goal and its own pseudonymous reference; once stopped, the status only."""

from __future__ import annotations

from harambee_interventions.models import Task
from harambee_interventions.tasks.schemas import TaskView


def provider_view(task: Task) -> TaskView:
    """The provider's view of one of its tasks (never the subject reference, the need or the case)."""
    if task.status == "stopped":
        return TaskView(task_id=task.task_id, status="stopped", reference=None, goal=None, intervention_type=None,
                        practitioner_id=None, starts_on=None, expected_end_on=None, last_session_on=None)
    return TaskView(task_id=task.task_id, status=task.status, reference=task.reference, goal=task.goal,
                    intervention_type=task.intervention_type, practitioner_id=task.practitioner_id,
                    starts_on=task.starts_on, expected_end_on=task.expected_end_on,
                    last_session_on=task.last_session_on)

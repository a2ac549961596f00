"""A tenant's settings, as data: each has a schema and a default, and changes need If-Match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed
from harambee_intake.preconditions import require_match
from harambee_intake.retention.schemas import RetentionPolicy
from harambee_intake.rights.schemas import RightsDeadlines
from harambee_intake.screening.schemas import EscalationContact
from harambee_intake.subjects.schemas import MatchingPolicy
from harambee_intake.tenant_settings import history, repository

SCHEMAS: dict[str, type[BaseModel]] = {
    "escalation_contact": EscalationContact,
    "rights_deadlines": RightsDeadlines,
    "retention": RetentionPolicy,
    "matching": MatchingPolicy,
}
DEFAULTS: dict[str, dict[str, Any] | None] = {
    "escalation_contact": None,  # every programme must name its own
    "rights_deadlines": RightsDeadlines().model_dump(),
    "retention": RetentionPolicy().model_dump(),
    "matching": MatchingPolicy().model_dump(),
}


@dataclass(frozen=True)
class Setting:
    """One setting in force: the tenant's value, or the default (version 0)."""

    name: str
    value: dict[str, Any] | None
    version: int


def get(*, uow: UnitOfWork, name: str) -> Setting:
    """The setting of that name in force in the tenant."""
    if name not in SCHEMAS:
        raise NotFound(f"No setting named {name!r}; the settings are: {', '.join(SCHEMAS)}.")
    row = repository.get_setting(session=uow.session, name=name)
    if row is None:
        return Setting(name=name, value=DEFAULTS[name], version=0)
    return Setting(name=name, value=row.value, version=row.version)


def put(
    *, uow: UnitOfWork, principal: TenantPrincipal, name: str, value: dict[str, Any], if_match: str | None
) -> Setting:
    """Replaces a setting; the body must match its schema. The change is kept and published (history.py)."""
    current = get(uow=uow, name=name)
    require_match(if_match=if_match, version=current.version)
    try:
        valid = SCHEMAS[name].model_validate(value).model_dump(mode="json")
    except ValidationError as exc:
        errors = [{"location": ["body", *e["loc"]], "message": e["msg"], "type": e["type"]}
                  for e in exc.errors()]
        raise ValidationFailed(f"Not a valid {name}.", errors=errors) from exc
    row = repository.put_setting(session=uow.session, tenant=uow.tenant, name=name, value=valid,
                                 version=current.version + 1, by=principal.actor, at=datetime.now(UTC))
    history.setting_changed(uow=uow, principal=principal, name=name, version=row.version, previous=current.value,
                            value=valid)
    return Setting(name=name, value=row.value, version=row.version)


def typed(*, uow: UnitOfWork, name: str) -> Any:
    """The setting parsed into its schema (None when it has no value)."""
    setting = get(uow=uow, name=name)
    return None if setting.value is None else SCHEMAS[name].model_validate(setting.value)

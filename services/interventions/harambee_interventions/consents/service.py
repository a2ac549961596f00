"""What interventions keeps of intake's consents: enough to tell whether a person consented to an organisation.

Intake records consent; its `consent.recorded` names, besides purposes and expiry, the recipients that are
registry organisations (the recipients as the officer wrote them stay in intake). Where a provider's
agreement says `consent_required`, its tasks are disclosed to it only while the person has a consent that
names its organisation, is not withdrawn (`consent.withdrawn`) and has not expired (`tasks.sharing`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.db import UnitOfWork
from harambee_interventions.consents import repository
from harambee_interventions.models import Consent


def record(*, uow: UnitOfWork, consent_id: uuid.UUID, subject_ref: uuid.UUID, organisations: list[str],
           expires_at: datetime | None) -> None:
    """Keeps a consent intake recorded, with the registry organisations it names."""
    repository.add(session=uow.session, consent=Consent(
        consent_id=consent_id, tenant_id=uow.tenant, subject_ref=subject_ref, organisations=sorted(set(organisations)),
        expires_at=expires_at, withdrawn_at=None))


def withdraw(*, uow: UnitOfWork, consent_id: uuid.UUID, withdrawn_at: datetime) -> None:
    """A consent was withdrawn: it names no one any more."""
    repository.withdraw(session=uow.session, consent_id=consent_id, withdrawn_at=withdrawn_at)

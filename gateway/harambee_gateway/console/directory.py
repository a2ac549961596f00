"""What the console needs from the gateway's own registry: its client id and the counties a national
programme oversees. Registry configuration only — never a figure, a case or a log entry, which come
from the services' APIs."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from harambee_gateway import repository
from harambee_gateway.console.config import CLIENT_NAME


def client_id(*, sessions: sessionmaker[Session], configured: str | None) -> str | None:
    """CONSOLE_CLIENT_ID, else the id of the active client registered as harambee-console."""
    return configured or _registered_client_id(sessions)


@lru_cache(maxsize=1)
def _registered_client_id_cached(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as db_session:
        client = repository.get_client_by_name(db_session=db_session, name=CLIENT_NAME)
        return client.client_id if client is not None and client.revoked_at is None else None


def _registered_client_id(sessions: sessionmaker[Session]) -> str | None:
    found = _registered_client_id_cached(sessions)
    if found is None:  # not registered yet: ask again next time rather than remember the absence
        _registered_client_id_cached.cache_clear()
    return found


def counties_overseen(*, sessions: sessionmaker[Session], tenant: str) -> list[str]:
    """The county tenants a national tenant oversees (none for a county)."""
    with sessions() as db_session:
        found = repository.get_tenant(db_session=db_session, slug=tenant)
        return sorted(found.oversees) if found is not None else []

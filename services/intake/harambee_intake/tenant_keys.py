"""Tenant keys as stored: 32 random bytes per tenant and generation, wrapped by the key-encryption key.

A tenant key is never derived from anything: its only copies are the wrapped one in
`tenant_key_material` (and so in the database's backups) and, for a minute at a time, the memory of
the processes using it. Destroying the row's wrapped key (crypto-shredding) after a rotation leaves
every data key the generation wrapped unreadable here; a backup still holds the row, wrapped by the
KEK of its day, which is why retiring a KEK (not in any backup) is what closes the backups too (see
the README's "Erasure and backups").

Each read runs in a short transaction of its own, scoped to the tenant, so the vault can be asked
for a key from anywhere (a request, a consumer, the webhook dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from harambee_common.db import UnitOfWork, set_tenant
from harambee_intake.models import TenantKey, TenantKeyMaterial

if TYPE_CHECKING:
    from harambee_intake.vault import Vault


@dataclass(frozen=True)
class Material:
    """One generation of a tenant key as stored: wrapped by the KEK named, or destroyed (None)."""

    wrapped: bytes | None
    kek_id: str


class TenantKeyStore:
    """Reads and creates wrapped tenant keys, each in its own tenant-scoped transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def read(self, *, tenant: str, generation: int) -> Material | None:
        """The generation's stored key; None when none was ever stored (a generation derived by an older version)."""
        with self._sessions() as session, session.begin():
            set_tenant(session, tenant)
            row = session.get(TenantKeyMaterial, (tenant, generation))
            return None if row is None else Material(row.wrapped_key, row.kek_id)

    def create(self, *, tenant: str, generation: int, wrapped: bytes, kek_id: str) -> None:
        """Stores a new generation's wrapped key, unless another process stored one first (that one stands)."""
        with self._sessions() as session, session.begin():
            set_tenant(session, tenant)
            session.execute(insert(TenantKeyMaterial).values(
                tenant_id=tenant, generation=generation, wrapped_key=wrapped, kek_id=kek_id,
                created_at=datetime.now(UTC)).on_conflict_do_nothing())


def destroy_before(*, session: Session, tenant: str, generation: int, at: datetime) -> list[int]:
    """Crypto-shreds every generation of the tenant's key older than generation, in the caller's transaction.

    Generations an older version derived (no row) get a destroyed row too, so that nothing here derives
    them again. Returns the generations destroyed now.
    """
    destroyed = list(session.scalars(
        sa.update(TenantKeyMaterial)
        .where(TenantKeyMaterial.generation < generation, TenantKeyMaterial.wrapped_key.is_not(None))
        .values(wrapped_key=None, destroyed_at=at).returning(TenantKeyMaterial.generation)))
    known = set(session.scalars(sa.select(TenantKeyMaterial.generation)))
    legacy = [g for g in range(generation) if g not in known]
    if legacy:
        session.execute(insert(TenantKeyMaterial), [
            {"tenant_id": tenant, "generation": g, "wrapped_key": None, "kek_id": "derived", "created_at": at,
             "destroyed_at": at} for g in legacy])
    return sorted(destroyed + legacy)


def get_current(*, session: Session) -> TenantKey | None:
    """The tenant's current generation, once one has been made."""
    return session.scalar(sa.select(TenantKey))


def set_current(*, session: Session, tenant: str, generation: int, kek_id: str, by: str, at: datetime) -> int:
    """Makes generation the one new wraps use, unless a newer one already is; returns the one that is."""
    statement = insert(TenantKey).values(tenant_id=tenant, generation=generation, kek_id=kek_id, rotated_by=by,
                                         rotated_at=at)
    newer = statement.excluded.generation > TenantKey.generation
    return session.execute(statement.on_conflict_do_update(
        index_elements=[TenantKey.tenant_id],
        set_={"generation": sa.case((newer, statement.excluded.generation), else_=TenantKey.generation),
              "kek_id": sa.case((newer, statement.excluded.kek_id), else_=TenantKey.kek_id),
              "rotated_by": sa.case((newer, statement.excluded.rotated_by), else_=TenantKey.rotated_by),
              "rotated_at": sa.case((newer, statement.excluded.rotated_at), else_=TenantKey.rotated_at)},
    ).returning(TenantKey.generation)).scalar_one()


def current_generation(*, uow: UnitOfWork, vault: Vault, actor: str = "intake") -> int:
    """The generation new wraps use: the current one if its key is stored under the current KEK, else a new one.

    So a tenant's first person, the first wrap after an upgrade (whose generations were derived), and
    the first after a KEK change each start a random generation; a rotation moves the rest to it.
    """
    current = get_current(session=uow.session)
    generation = current.generation if current is not None else 0
    if current is not None and vault.has_generation(tenant=uow.tenant, generation=generation):
        return generation
    vault.start_generation(tenant=uow.tenant, generation=generation + 1)
    return set_current(session=uow.session, tenant=uow.tenant, generation=generation + 1, kek_id=vault.kek_id,
                       by=actor, at=datetime.now(UTC))

"""Every query on the registry tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload, selectinload

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_gateway.models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    AuthorizationCode,
    Client,
    ClientGrant,
    Enrolment,
    ExternalIdentity,
    ExternalSignIn,
    IdentityProvider,
    Organisation,
    Person,
    PersonRole,
    RetiredSigningKey,
    StoredSigningKey,
    Tenant,
)

# Every list pages oldest first, by creation time and then a unique key: an insert never shifts a page.
TENANTS = Keyset(columns=(Tenant.created_at, Tenant.slug), types=(datetime, str))
ORGANISATIONS = Keyset(columns=(Organisation.created_at, Organisation.slug), types=(datetime, str))
CLIENTS = Keyset(columns=(Client.created_at, Client.client_id), types=(datetime, str))
PEOPLE = Keyset(columns=(Person.created_at, Person.id), types=(datetime, uuid.UUID))
AGREEMENTS = Keyset(columns=(Agreement.created_at, Agreement.id), types=(datetime, uuid.UUID))
EXTERNAL_IDENTITIES = Keyset(columns=(ExternalIdentity.created_at, ExternalIdentity.id), types=(datetime, uuid.UUID))


# --- Any row -------------------------------------------------------------------------------------


def add(*, db_session: Session, row: object) -> None:
    """Stages a new row and sends it to the database (so a duplicate fails here)."""
    db_session.add(row)
    db_session.flush()


def delete(*, db_session: Session, row: object) -> None:
    """Deletes a row now (so a failure shows here)."""
    db_session.delete(row)
    db_session.flush()


def database_is_reachable(*, db_session: Session) -> bool:
    """Whether a trivial query succeeds."""
    return db_session.execute(sa.select(1)).scalar_one() == 1


# --- Tenants -------------------------------------------------------------------------------------


def get_tenant(*, db_session: Session, slug: str) -> Tenant | None:
    """The tenant with this slug."""
    return db_session.get(Tenant, slug)


def existing_tenants(*, db_session: Session, slugs: list[str]) -> dict[str, Tenant]:
    """The tenants among slugs that exist, by slug."""
    if not slugs:
        return {}
    return {t.slug: t for t in db_session.scalars(sa.select(Tenant).where(Tenant.slug.in_(slugs)))}


def list_tenants(*, db_session: Session, cursor: str | None, limit: int) -> Slice[Tenant]:
    """A page of tenants, oldest first."""
    return paginate(db_session, sa.select(Tenant), keyset=TENANTS, cursor=cursor, limit=limit)


# --- Organisations -------------------------------------------------------------------------------


def get_organisation_by_slug(*, db_session: Session, slug: str) -> Organisation | None:
    """The organisation with this slug."""
    return db_session.scalars(sa.select(Organisation).where(Organisation.slug == slug)).one_or_none()


def existing_organisations(*, db_session: Session, slugs: list[str]) -> dict[str, Organisation]:
    """The organisations among slugs that exist, by slug."""
    if not slugs:
        return {}
    query = sa.select(Organisation).where(Organisation.slug.in_(slugs))
    return {o.slug: o for o in db_session.scalars(query)}


def list_organisations(*, db_session: Session, cursor: str | None, limit: int) -> Slice[Organisation]:
    """A page of organisations, oldest first."""
    return paginate(db_session, sa.select(Organisation), keyset=ORGANISATIONS, cursor=cursor, limit=limit)


# --- Clients -------------------------------------------------------------------------------------


def get_client(*, db_session: Session, client_id: str, for_update: bool = False) -> Client | None:
    """The client with its organisation and grants, revoked or not."""
    query = (
        sa.select(Client)
        .where(Client.client_id == client_id)
        .options(selectinload(Client.organisation), selectinload(Client.grants))
    )
    if for_update:
        query = query.with_for_update(of=Client)
    return db_session.scalars(query).one_or_none()


def client_exists(*, db_session: Session, client_id: str) -> bool:
    """Whether a client with this id is registered, revoked or not."""
    return db_session.scalar(sa.select(sa.exists().where(Client.client_id == client_id))) or False


def get_active_client(*, db_session: Session, client_id: str) -> Client | None:
    """The client with its organisation and grants, unless it is unknown or revoked.

    One statement whether the client exists or not (joined, not a query per relationship): the token
    endpoint's time must not tell a caller which client ids exist.
    """
    return db_session.scalars(
        sa.select(Client)
        .where(Client.client_id == client_id, Client.revoked_at.is_(None))
        .options(joinedload(Client.organisation), joinedload(Client.grants))
    ).unique().one_or_none()


def replace_secret_hash(*, db_session: Session, client_id: str, old: str, new: str) -> None:
    """Stores new in place of old, as the client's current or previous secret hash, wherever it still holds old."""
    for column in (Client.secret_hash, Client.previous_secret_hash):
        db_session.execute(
            sa.update(Client)
            .where(Client.client_id == client_id, column == old)
            .values({column: new})
            .execution_options(synchronize_session=False)
        )


def get_client_by_name(*, db_session: Session, name: str) -> Client | None:
    """The client registered under name, revoked or not."""
    return db_session.scalars(sa.select(Client).where(Client.name == name)).one_or_none()


def list_clients(*, db_session: Session, cursor: str | None, limit: int) -> Slice[Client]:
    """A page of clients with their organisations and grants, oldest first."""
    query = sa.select(Client).options(selectinload(Client.organisation), selectinload(Client.grants))
    return paginate(db_session, query, keyset=CLIENTS, cursor=cursor, limit=limit)



def get_grant(*, db_session: Session, client_id: str, tenant: str) -> ClientGrant | None:
    """The grant a client holds in a tenant."""
    return db_session.get(ClientGrant, (client_id, tenant))


def upsert_grant(*, db_session: Session, client_id: str, tenant: str, roles: list[str], scopes: list[str]) -> None:
    """Sets the roles and scopes a client holds in a tenant."""
    db_session.execute(
        insert(ClientGrant)
        .values(client_id=client_id, tenant=tenant, roles=roles, scopes=scopes)
        .on_conflict_do_update(
            index_elements=[ClientGrant.client_id, ClientGrant.tenant],
            set_={"roles": roles, "scopes": scopes},
        )
    )


# --- People --------------------------------------------------------------------------------------


def _person_query() -> sa.Select:
    return sa.select(Person).options(
        selectinload(Person.organisation),
        selectinload(Person.roles.and_(PersonRole.revoked_at.is_(None))),
    )


def get_person(*, db_session: Session, person_id: uuid.UUID) -> Person | None:
    """The person with their organisation and current roles."""
    return db_session.scalars(_person_query().where(Person.id == person_id)).one_or_none()


def get_person_by_username(*, db_session: Session, username: str, for_update: bool = False) -> Person | None:
    """The person with this username, with their organisation and current roles (locked for update if asked)."""
    query = _person_query().where(Person.username == username)
    if for_update:
        query = query.with_for_update(of=Person)
    return db_session.scalars(query).one_or_none()


def supersede_open_enrolments(*, db_session: Session, person_id: uuid.UUID, at: datetime) -> None:
    """Marks the person's unused enrolments replaced: only the newest link works."""
    db_session.execute(sa.update(Enrolment).where(
        Enrolment.person_id == person_id, Enrolment.used_at.is_(None), Enrolment.superseded_at.is_(None),
    ).values(superseded_at=at))


def _usable(token_hash: str, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Enrolment.token_hash == token_hash, Enrolment.used_at.is_(None),
                   Enrolment.superseded_at.is_(None), Enrolment.expires_at > now)


def get_open_enrolment(*, db_session: Session, token_hash: str, now: datetime) -> Enrolment | None:
    """The enrolment with this token, if still usable."""
    return db_session.scalars(sa.select(Enrolment).where(_usable(token_hash, now))).one_or_none()


def claim_enrolment(*, db_session: Session, token_hash: str, now: datetime) -> Enrolment | None:
    """Spends the enrolment with this token, if still usable: one statement, so it is spent once."""
    return db_session.scalars(sa.update(Enrolment).where(_usable(token_hash, now)).values(used_at=now)
                              .returning(Enrolment)).one_or_none()


def list_people(*, db_session: Session, cursor: str | None, limit: int) -> Slice[Person]:
    """A page of people with their current roles, oldest first."""
    return paginate(db_session, _person_query(), keyset=PEOPLE, cursor=cursor, limit=limit)


def get_current_role(*, db_session: Session, person_id: uuid.UUID, tenant: str, role: str) -> PersonRole | None:
    """The role if the person holds it in the tenant now."""
    return db_session.scalars(
        sa.select(PersonRole).where(
            PersonRole.person_id == person_id,
            PersonRole.tenant == tenant,
            PersonRole.role == role,
            PersonRole.revoked_at.is_(None),
        )
    ).one_or_none()


def clear_totp_secrets(*, db_session: Session) -> list[tuple[uuid.UUID, str]]:
    """Each person whose TOTP secret an older version stored in clear, with that secret."""
    query = sa.select(Person.id, Person.totp_secret).where(Person.totp_secret.is_not(None)).order_by(Person.id)
    return [(row.id, row.totp_secret) for row in db_session.execute(query)]


def replace_clear_totp_secret(*, db_session: Session, person_id: uuid.UUID, clear: str, sealed: bytes) -> bool:
    """Stores the sealed secret in place of the clear one, if the row still holds that clear one."""
    result = db_session.execute(
        sa.update(Person)
        .where(Person.id == person_id, Person.totp_secret == clear)
        .values(encrypted_totp_secret=sealed, totp_secret=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- Agreements ----------------------------------------------------------------------------------


def get_agreement(*, db_session: Session, agreement_id: uuid.UUID) -> Agreement | None:
    """The agreement with this id."""
    return db_session.get(Agreement, agreement_id)


def get_agreement_by_reference(*, db_session: Session, reference: str) -> Agreement | None:
    """The agreement with this reference."""
    return db_session.scalars(sa.select(Agreement).where(Agreement.reference == reference)).one_or_none()


def latest_version(*, db_session: Session, agreement_id: uuid.UUID) -> AgreementVersion:
    """The agreement's current version."""
    return db_session.scalars(
        sa.select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement_id)
        .order_by(AgreementVersion.version.desc())
        .limit(1)
    ).one()


def list_versions(*, db_session: Session, agreement_id: uuid.UUID) -> list[AgreementVersion]:
    """Every version of an agreement, oldest first."""
    return list(
        db_session.scalars(
            sa.select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement_id)
            .order_by(AgreementVersion.version)
        )
    )


def _current_versions(*selected: Any) -> sa.Select:
    """What is selected (entities, columns) from each agreement joined with its current version."""
    latest = (
        sa.select(AgreementVersion.agreement_id, sa.func.max(AgreementVersion.version).label("version"))
        .group_by(AgreementVersion.agreement_id)
        .subquery()
    )
    return (
        sa.select(*selected)
        .select_from(Agreement)
        .join(latest, latest.c.agreement_id == Agreement.id)
        .join(
            AgreementVersion,
            sa.and_(AgreementVersion.agreement_id == Agreement.id, AgreementVersion.version == latest.c.version),
        )
    )


def list_current_agreements(
    *,
    db_session: Session,
    party: tuple[str | None, str] | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Slice[tuple[Agreement, AgreementVersion]]:
    """A page of agreements in their current version, optionally of one party or in one status."""
    query = _current_versions(Agreement)
    if party is not None:
        kind, slug = party
        parties = sa.select(AgreementParty.agreement_id).where(AgreementParty.party == slug)
        if kind is not None:
            parties = parties.where(AgreementParty.kind == kind)
        query = query.where(Agreement.id.in_(parties))
    if status is not None:
        query = query.where(AgreementVersion.status == status)
    found = paginate(db_session, query, keyset=AGREEMENTS, cursor=cursor, limit=limit)
    ids = [agreement.id for agreement in found.rows]
    current = db_session.scalars(_current_versions(AgreementVersion).where(Agreement.id.in_(ids)))
    versions = {version.agreement_id: version for version in current}
    return Slice(rows=[(a, versions[a.id]) for a in found.rows], next_cursor=found.next_cursor)


def lapsed_agreement_ids(*, db_session: Session, today: date) -> list[uuid.UUID]:
    """Agreements whose current version is not closed yet but whose validity has ended."""
    query = _current_versions(Agreement.id).where(
        AgreementVersion.status.in_(("draft", "active", "suspended")), AgreementVersion.valid_until < today
    )
    return list(db_session.scalars(query))


# --- Sign-in -------------------------------------------------------------------------------------


def consume_authorization_code(*, db_session: Session, code_hash: str, client_id: str) -> AuthorizationCode | None:
    """Marks the code used, atomically, if it is the client's, unused and unexpired; returns it."""
    now = sa.func.now()
    return db_session.scalars(
        sa.update(AuthorizationCode)
        .where(
            AuthorizationCode.code_hash == code_hash,
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.used_at.is_(None),
            AuthorizationCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(AuthorizationCode),
        execution_options={"synchronize_session": False},
    ).one_or_none()


def list_signing_keys(*, db_session: Session) -> list[StoredSigningKey]:
    """Every stored signing key, oldest first."""
    return list(db_session.scalars(sa.select(StoredSigningKey).order_by(StoredSigningKey.signs_from)))


def signing_key_retirements(*, db_session: Session) -> dict[str, datetime]:
    """When each retired signing key stopped signing for good, by kid."""
    return {row.kid: row.retired_from for row in db_session.scalars(sa.select(RetiredSigningKey))}


def retire_signing_key(*, db_session: Session, row: RetiredSigningKey) -> None:
    """Records a key's retirement, unless it is already retired (the first retirement stands)."""
    db_session.execute(insert(RetiredSigningKey).values(
        kid=row.kid, retired_from=row.retired_from, retired_by=row.retired_by).on_conflict_do_nothing())


def people_with_sealed_totp_secrets(*, db_session: Session) -> list[Person]:
    """Every person whose TOTP secret is sealed, locked for re-sealing."""
    return list(db_session.scalars(
        sa.select(Person).where(Person.encrypted_totp_secret.is_not(None)).order_by(Person.id).with_for_update()))


def all_identity_providers(*, db_session: Session) -> list[IdentityProvider]:
    """Every tenant's external provider, locked for re-sealing."""
    return list(db_session.scalars(sa.select(IdentityProvider).order_by(IdentityProvider.tenant).with_for_update()))


def all_signing_keys_for_update(*, db_session: Session) -> list[StoredSigningKey]:
    """Every stored signing key, locked for re-sealing."""
    return list(db_session.scalars(sa.select(StoredSigningKey).order_by(StoredSigningKey.kid).with_for_update()))


# --- Identity providers and their links ----------------------------------------------------------


def get_identity_provider(*, db_session: Session, tenant: str, for_update: bool = False) -> IdentityProvider | None:
    """The external provider the tenant trusts, if any."""
    query = sa.select(IdentityProvider).where(IdentityProvider.tenant == tenant)
    if for_update:
        query = query.with_for_update()
    return db_session.scalars(query).one_or_none()


def tenants_with_identity_provider(*, db_session: Session, slugs: list[str]) -> set[str]:
    """The tenants among slugs that sign their people in through an external provider."""
    if not slugs:
        return set()
    return set(db_session.scalars(sa.select(IdentityProvider.tenant).where(IdentityProvider.tenant.in_(slugs))))


def find_external_identity(
    *, db_session: Session, tenant: str, issuer: str, claim: str, subject: str
) -> ExternalIdentity | None:
    """The link of this subject at this provider, in this tenant."""
    return db_session.scalars(
        sa.select(ExternalIdentity).where(
            ExternalIdentity.tenant == tenant,
            ExternalIdentity.issuer == issuer,
            ExternalIdentity.claim == claim,
            ExternalIdentity.subject == subject,
        )
    ).one_or_none()


def find_external_identity_of_person(
    *, db_session: Session, tenant: str, issuer: str, claim: str, person_id: uuid.UUID
) -> ExternalIdentity | None:
    """The person's link at this provider, in this tenant."""
    return db_session.scalars(
        sa.select(ExternalIdentity).where(
            ExternalIdentity.tenant == tenant,
            ExternalIdentity.issuer == issuer,
            ExternalIdentity.claim == claim,
            ExternalIdentity.person_id == person_id,
        )
    ).one_or_none()


def get_external_identity(*, db_session: Session, tenant: str, link_id: uuid.UUID) -> ExternalIdentity | None:
    """A link of the tenant by its id."""
    return db_session.scalars(
        sa.select(ExternalIdentity).where(ExternalIdentity.id == link_id, ExternalIdentity.tenant == tenant)
    ).one_or_none()


def list_external_identities(
    *, db_session: Session, tenant: str, cursor: str | None, limit: int
) -> Slice[ExternalIdentity]:
    """A page of the tenant's links, oldest first."""
    query = sa.select(ExternalIdentity).where(ExternalIdentity.tenant == tenant)
    return paginate(db_session, query, keyset=EXTERNAL_IDENTITIES, cursor=cursor, limit=limit)


def delete_finished_external_sign_ins(*, db_session: Session) -> None:
    """Forgets sign-ins at providers that were used or have expired."""
    db_session.execute(
        sa.delete(ExternalSignIn).where(
            sa.or_(ExternalSignIn.used_at.is_not(None), ExternalSignIn.expires_at < sa.func.now())
        ),
        execution_options={"synchronize_session": False},
    )


def consume_external_sign_in(*, db_session: Session, state_hash: str) -> ExternalSignIn | None:
    """Marks a sign-in at a provider used, atomically, if it is unused and unexpired; returns it."""
    now = sa.func.now()
    return db_session.scalars(
        sa.update(ExternalSignIn)
        .where(
            ExternalSignIn.state_hash == state_hash,
            ExternalSignIn.used_at.is_(None),
            ExternalSignIn.expires_at > now,
        )
        .values(used_at=now)
        .returning(ExternalSignIn),
        execution_options={"synchronize_session": False},
    ).one_or_none()

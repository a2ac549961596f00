"""People signing in: password (argon2id), a TOTP second factor, lockout, and what their token holds.

A tenant that trusts an external provider confers its roles only on a sign-in through that
provider (external_signin): a password sign-in holds roles in the other tenants only, so a person
removed from the county's directory loses the county's roles with it.

Functions here never commit; the caller's transaction does.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from harambee_common.permissions import SECOND_FACTOR_ROLES, Role, Scope
from harambee_common.problems import or_not_found
from harambee_gateway import passwords, repository, totp_secrets
from harambee_gateway.models import AuthorizationCode, Person
from harambee_gateway.secret_box import SealedSecretUnreadable, SecretBox

log = logging.getLogger(__name__)

# What each role may do through the API; a person's token holds the union over their roles,
# narrowed to what the app asked for and what the app may ask for.
ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    Role.intake_officer: frozenset({Scope.referrals_write, Scope.referrals_read, Scope.cases_read}),
    # Case workers also manage plans (interventions' plans:write); a provider's practitioner sees and records
    # its own tasks only (tasks:read, tasks:write).
    Role.case_worker: frozenset({Scope.referrals_read, Scope.cases_read, Scope.cases_write, Scope.plans_write}),
    # A member reads their meetings' agendas; the meeting's chair records its decisions (assessment checks who).
    Role.panel_member: frozenset({Scope.cases_read, Scope.panel_read, Scope.panel_write}),
    Role.assessor: frozenset({Scope.cases_read, Scope.cases_write}),
    Role.intervention_provider: frozenset({Scope.cases_read, Scope.tasks_read, Scope.tasks_write}),
    Role.programme_manager: frozenset({Scope.referrals_read, Scope.cases_read, Scope.cases_write,
                                       Scope.aggregates_read, Scope.plans_write}),
    # Aggregates only, and only for the counties whose agreement with the national programme allows it.
    Role.national_coordinator: frozenset({Scope.aggregates_read}),
    Role.compliance_officer: frozenset({Scope.audit_read}),
    Role.platform_admin: frozenset({Scope.registry_admin}),
}
MAX_FAILURES = 10
LOCKOUT = timedelta(minutes=15)
CODE_TTL = timedelta(minutes=2)
TOTP_ISSUER = "Harambee"
# One answer for an unknown, disabled or locked account and a wrong password: none can be told apart.
REFUSED = "The username or password is wrong, or the account is locked for a while."


class SignInFailed(Exception):
    """Sign-in refused; the message is safe to show (it never says which part was wrong)."""


class SecondFactorNeeded(SignInFailed):
    """The password was right and a one-time code is required (or was wrong)."""


@dataclass(frozen=True)
class SignedInPerson:
    """A person as authlib and the token generator see them: id, roles per tenant, how they signed in."""

    person_id: uuid.UUID
    tenants: dict[str, list[str]]
    organisation: str | None
    auth_time: int
    amr: tuple[str, ...]
    # Set when a tenant's external provider vouched for the person; `tenants` then holds that one.
    via_tenant: str | None = None
    organisation_kind: str | None = None

    def get_user_id(self) -> str:
        return str(self.person_id)

    @property
    def tenant_scopes(self) -> dict[str, frozenset[str]]:
        """Tenant slug to the scopes the person's roles there allow."""
        return {
            tenant: frozenset(scope for role in roles for scope in ROLE_SCOPES.get(role, ()))
            for tenant, roles in self.tenants.items()
        }

    @property
    def scopes(self) -> frozenset[str]:
        """Every scope the person's roles allow, in any tenant."""
        return frozenset().union(*self.tenant_scopes.values())


def signed_in(
    *, db_session: Session, person: Person, auth_time: int, amr: tuple[str, ...], via_tenant: str | None = None
) -> SignedInPerson:
    """The sign-in view of a person loaded with their organisation and current roles.

    Through a tenant's provider (via_tenant) it holds that tenant's roles only; otherwise the
    roles in every tenant that does not sign its people in through a provider.
    """
    held = sorted(person.roles, key=lambda r: (r.tenant, r.role))
    if via_tenant is not None:
        held = [r for r in held if r.tenant == via_tenant]
    else:
        directory = repository.tenants_with_identity_provider(
            db_session=db_session, slugs=sorted({r.tenant for r in held})
        )
        held = [r for r in held if r.tenant not in directory]
    tenants: dict[str, list[str]] = {}
    for role in held:
        tenants.setdefault(role.tenant, []).append(role.role)
    return SignedInPerson(
        person_id=person.id,
        tenants=tenants,
        organisation=person.organisation.slug if person.organisation else None,
        organisation_kind=person.organisation.kind if person.organisation else None,
        auth_time=auth_time,
        amr=amr,
        via_tenant=via_tenant,
    )


def authenticate(
    *, db_session: Session, box: SecretBox, username: str, password: str, otp: str | None
) -> SignedInPerson:
    """Checks a person's password and, where required, their one-time code (its secret opened with box).

    The person's row stays locked until the caller's transaction ends: concurrent attempts on one
    account queue, so each failure counts towards the lockout and a one-time code is spent once.
    """
    person = repository.get_person_by_username(
        db_session=db_session, username=username.strip().lower(), for_update=True
    )
    now = datetime.now(UTC)
    if person is None or person.disabled_at is not None or (
        person.locked_until is not None and person.locked_until > now
    ):
        # As slow as a real check, so that the time taken does not tell these apart either.
        passwords.spend_verification_time(password=password)
        raise SignInFailed(REFUSED)
    if not passwords.verify_password(password_hash=person.password_hash, password=password):
        _failed(person=person, now=now)
        db_session.flush()
        raise SignInFailed(REFUSED)
    amr = ["pwd"]
    try:
        secret = totp_secrets.secret_of(box=box, person=person)
    except SealedSecretUnreadable:
        # Sealed for someone else, altered, or under another bootstrap key: no code can match it.
        log.warning("person %s has a TOTP secret that does not open", person.id)
        raise SignInFailed("Your second factor cannot be checked; ask an administrator to set it up again.") from None
    if secret or _requires_totp(db_session=db_session, person=person):
        if not secret:
            raise SignInFailed("Your role or programme requires a second factor; ask an administrator for an "
                               "enrolment link to set one up.")
        if not otp:
            raise SecondFactorNeeded("Enter the one-time code from your authenticator app.")
        step = _totp_step(secret=secret, otp=otp)
        if step is None or (person.totp_last_step is not None and step <= person.totp_last_step):
            _failed(person=person, now=now)
            db_session.flush()
            raise SecondFactorNeeded("The one-time code is wrong or was used already.")
        person.totp_last_step = step
        amr += ["otp", "mfa"]
    person.failed_sign_ins = 0
    person.locked_until = None
    db_session.flush()
    view = signed_in(db_session=db_session, person=person, auth_time=int(now.timestamp()), amr=tuple(amr))
    if person.roles and not view.tenants:
        raise SignInFailed("Your programme signs you in through its own directory: use its sign-in instead.")
    return view


def _failed(*, person: Person, now: datetime) -> None:
    person.failed_sign_ins += 1
    if person.failed_sign_ins >= MAX_FAILURES:
        person.locked_until = now + LOCKOUT
        person.failed_sign_ins = 0


def _requires_totp(*, db_session: Session, person: Person) -> bool:
    """A role that can re-identify people, or platform administration, or a tenant's own rule."""
    if any(r.role in SECOND_FACTOR_ROLES for r in person.roles):
        return True
    tenants = repository.existing_tenants(db_session=db_session, slugs=sorted({r.tenant for r in person.roles}))
    return any(t.require_totp for t in tenants.values())


def _totp_step(*, secret: str, otp: str) -> int | None:
    """The time step the code belongs to (now, or one step either side for clock drift), if valid."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if totp.verify(otp.strip(), for_time=at, valid_window=0):
            return int(at // totp.interval)
    return None


def enrol_totp(*, db_session: Session, box: SecretBox, person_id: uuid.UUID) -> tuple[str, str]:
    """Gives a person a new TOTP secret, stored sealed; returns it and its otpauth URI (shown once)."""
    person = or_not_found(repository.get_person(db_session=db_session, person_id=person_id), "No such person.")
    secret = pyotp.random_base32()
    totp_secrets.store(box=box, person=person, secret=secret)
    person.totp_last_step = None
    db_session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=person.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def code_hash(code: str) -> str:
    """The stored form of an authorization code."""
    return hashlib.sha256(code.encode()).hexdigest()


def save_code(
    *,
    db_session: Session,
    code: str,
    client_id: str,
    person: SignedInPerson,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
) -> None:
    """Stores a fresh authorization code (its hash) for two minutes."""
    repository.add(
        db_session=db_session,
        row=AuthorizationCode(
            code_hash=code_hash(code),
            client_id=client_id,
            person_id=person.person_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method="S256",
            auth_time=datetime.fromtimestamp(person.auth_time, UTC),
            amr=list(person.amr),
            via_tenant=person.via_tenant,
            expires_at=datetime.now(UTC) + CODE_TTL,
        ),
    )


def redeem_code(*, db_session: Session, code: str, client_id: str) -> AuthorizationCode | None:
    """Marks a code used and returns it, if it is this client's, unexpired and unused (once only)."""
    return repository.consume_authorization_code(db_session=db_session, code_hash=code_hash(code), client_id=client_id)


def person_for_token(*, db_session: Session, code: AuthorizationCode) -> SignedInPerson | None:
    """The person a redeemed code speaks for, with their roles as they are now."""
    person = repository.get_person(db_session=db_session, person_id=code.person_id)
    if person is None or person.disabled_at is not None:
        return None
    return signed_in(
        db_session=db_session,
        person=person,
        auth_time=int(code.auth_time.timestamp()),
        amr=tuple(code.amr),
        via_tenant=code.via_tenant,
    )

"""Intake's routes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_common.problems import NotFound, ValidationFailed
from harambee_intake import (
    consent,
    idempotency,
    retention,
    rights,
    screening,
    service,
    subjects,
    tenant_settings,
    vocabularies,
    webhooks,
)
from harambee_intake.auth import (
    AnyMember,
    IntakeOfficer,
    PartnerIntegration,
    ReferralsRead,
    ReferralsWrite,
    RightsRead,
    StaffRead,
)
from harambee_intake.models import (
    Referral,
    RetentionRun,
    RightsRequest,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from harambee_intake.preconditions import etag
from harambee_intake.repository import ReferralFilter
from harambee_intake.schemas import (
    AccessFulfilment,
    AttemptView,
    CandidateView,
    ClosureIn,
    ConsentIn,
    ConsentView,
    DeliveryPage,
    DeliveryView,
    ErasureIn,
    ErasureView,
    Flag,
    IdentityView,
    MergeIn,
    Outcome,
    PriorReferral,
    ReasonIn,
    RectificationIn,
    RectificationView,
    ReferralIn,
    ReferralPage,
    ReferralPatch,
    ReferralSort,
    ReferralStatus,
    ReferralView,
    ReidentificationIn,
    RetentionRunView,
    RightsRequestIn,
    RightsRequestPage,
    RightsRequestView,
    RotationView,
    ScreeningIn,
    ScreeningView,
    SettingView,
    SourceType,
    SubjectView,
    TimelinessReport,
    VocabularyIn,
    VocabularyView,
    WebhookCreated,
    WebhookIn,
    WebhookView,
    WithdrawalIn,
)
from harambee_intake.service import FLAG_GUIDANCE, ReferralDetail
from harambee_intake.subjects import CandidateSummary, History
from harambee_intake.vocabularies import Vocabulary

router = APIRouter(prefix="/v1/tenants/{tenant}")
IfMatch = Annotated[str | None, Header()]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]


@router.post("/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralStatus,
             tags=["referrals"])
def submit_referral(
    tenant: str, body: ReferralIn, principal: ReferralsWrite, uow: UnitOfWorkDep,
    request: Request, response: Response, idempotency_key: IdempotencyKeyHeader = None,
) -> ReferralStatus | JSONResponse:
    """Submits a referral; the person's identity is encrypted and never returned.

    With an Idempotency-Key, a retry with the same body gets the first response and creates
    nothing; the same key with another body is a 409 problem.
    """
    if idempotency_key is not None:
        replay = idempotency.claim(uow=uow, principal=principal, key=idempotency_key,
                                   operation="POST referrals", body=body.model_dump(mode="json"))
        if replay is not None:
            headers = {"Idempotent-Replayed": "true"}
            if replay.location:
                headers["Location"] = replay.location
            return JSONResponse(replay.body, status_code=replay.status, headers=headers)
    referral = service.submit_referral(
        uow=uow, vault=request.app.state.vault, principal=principal, referral_in=body
    )
    location = f"{request.url.path}/{referral.id}"
    response.headers["Location"] = location
    created = ReferralStatus(id=referral.id, status=referral.partner_status, received_at=referral.received_at)
    if idempotency_key is not None:
        idempotency.remember(uow=uow, principal=principal, key=idempotency_key,
                             status=status.HTTP_201_CREATED, body=created.model_dump(mode="json"),
                             location=location)
    return created


@router.get("/referrals", response_model=ReferralPage, tags=["referrals"])
def list_referrals(
    tenant: str, principal: ReferralsRead, uow: UnitOfWorkDep, request: Request,
    status: Annotated[list[str] | None, Query()] = None,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    source_type: Annotated[list[SourceType] | None, Query()] = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    screener: Annotated[str | None, Query(max_length=200, description='An officer\'s id, or "me"')] = None,
    sort: ReferralSort = ReferralSort.received_at_desc,
    limit: Limit = 50, cursor: str | None = None,
) -> ReferralPage:
    """Lists referrals: all of the tenant's for staff, its own for a partner.

    Filters combine (AND); a repeated `status` or `source_type` matches any of its values.
    `received_from` is inclusive and `received_to` exclusive. The cursor continues the same sort.
    """
    where = ReferralFilter(
        statuses=tuple(status or ()), outcomes=tuple(o.value for o in outcome or ()),
        source_types=tuple(s.value for s in source_type or ()),
        received_from=_aware(received_from), received_to=_aware(received_to), screener=screener,
        sort=sort.value,
    )
    items = service.list_referrals(uow=uow, vault=request.app.state.vault, principal=principal,
                                   where=where, after=_after(cursor, sort), limit=limit)
    last = _referral(items[-1]) if len(items) == limit else None
    at = None if last is None else getattr(last, sort.value.lstrip("-"))
    return ReferralPage(
        items=[_view(item) for item in items],
        next_cursor=encode_cursor(at, f"{sort.value}|{last.id}") if last else None,
    )


@router.get("/referrals/{referral_id}", response_model=ReferralView | ReferralStatus, tags=["referrals"])
def get_referral(
    tenant: str, referral_id: uuid.UUID, principal: ReferralsRead, uow: UnitOfWorkDep,
    request: Request, response: Response,
) -> ReferralView | ReferralStatus:
    """Gets one referral: its content for staff (with an ETag), its status for the partner that sent it."""
    item = service.read_referral(uow=uow, vault=request.app.state.vault, principal=principal,
                                 referral_id=referral_id)
    if item is None:
        raise NotFound("No such referral.")
    if isinstance(item, ReferralDetail):
        response.headers["ETag"] = etag(item.referral.version)
    return _view(item)


@router.patch("/referrals/{referral_id}", response_model=ReferralView, tags=["referrals"])
def amend_referral(
    tenant: str, referral_id: uuid.UUID, body: ReferralPatch, principal: IntakeOfficer,
    uow: UnitOfWorkDep, request: Request, response: Response, if_match: IfMatch = None,
) -> ReferralView:
    """Assigns a screener or sets the priority. If-Match is required: 412 when someone changed it first."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationFailed("Name at least one of: screener, priority.")
    detail = service.amend_referral(uow=uow, vault=request.app.state.vault, principal=principal,
                                    referral_id=referral_id, changes=changes, if_match=if_match)
    response.headers["ETag"] = etag(detail.referral.version)
    view = _view(detail)
    assert isinstance(view, ReferralView)
    return view


@router.get("/vocabularies", response_model=list[VocabularyView], tags=["vocabularies"])
def list_vocabularies(tenant: str, principal: AnyMember, uow: UnitOfWorkDep) -> list[VocabularyView]:
    """The coded lists in force in the tenant: its own where it has one, else the default."""
    return [_vocabulary(v) for v in vocabularies.in_force(uow=uow).values()]


@router.get("/vocabularies/{name}", response_model=VocabularyView, tags=["vocabularies"])
def get_vocabulary(
    tenant: str, name: str, principal: AnyMember, uow: UnitOfWorkDep, response: Response
) -> VocabularyView:
    """One coded list; its ETag is what a change must send as If-Match."""
    vocabulary = vocabularies.one(uow=uow, name=name)
    response.headers["ETag"] = etag(vocabulary.version)
    return _vocabulary(vocabulary)


@router.put("/vocabularies/{name}", response_model=VocabularyView, tags=["vocabularies"])
def put_vocabulary(
    tenant: str, name: str, body: VocabularyIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    response: Response, if_match: IfMatch = None,
) -> VocabularyView:
    """Replaces the tenant's list of that name (the default set is version 0)."""
    vocabulary = vocabularies.replace(
        uow=uow, principal=principal, name=name,
        entries=[e.model_dump(exclude_none=True) for e in body.entries], if_match=if_match,
    )
    response.headers["ETag"] = etag(vocabulary.version)
    return _vocabulary(vocabulary)


def _after(cursor: str | None, sort: ReferralSort) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    at, ident = decode_cursor(cursor)
    cursor_sort, _, referral_id = ident.rpartition("|")
    if cursor_sort != sort.value:
        raise ValidationFailed("The cursor belongs to another sort order; start again without it.")
    try:
        return at, uuid.UUID(referral_id)
    except ValueError as exc:
        raise ValidationFailed("The cursor is not one this API issued.") from exc


def _aware(at: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


@router.get("/subjects/{subject_ref}", response_model=SubjectView, tags=["subjects"])
def get_subject(
    tenant: str, subject_ref: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, response: Response
) -> SubjectView:
    """A person's referrals (with any subjects merged into theirs) and open duplicate candidates.

    The ETag is this subject's version, for rectification.
    """
    history = subjects.read_history(uow=uow, principal=principal, subject_id=subject_ref)
    response.headers["ETag"] = etag(history.version)
    return _subject(history)


@router.post("/subjects/{subject_ref}/merge", response_model=SubjectView, tags=["subjects"])
def merge_subject(
    tenant: str, subject_ref: uuid.UUID, body: MergeIn, principal: IntakeOfficer, uow: UnitOfWorkDep
) -> SubjectView:
    """Records that this subject is the same person as `into`; audited, and undone by un-merge."""
    return _subject(subjects.merge(uow=uow, principal=principal, source_id=subject_ref,
                                   target_id=body.into, reason=body.reason))


@router.post("/subjects/{subject_ref}/unmerge", response_model=SubjectView, tags=["subjects"])
def unmerge_subject(
    tenant: str, subject_ref: uuid.UUID, body: ReasonIn, principal: IntakeOfficer, uow: UnitOfWorkDep
) -> SubjectView:
    """Undoes the merge of this subject into another; audited."""
    return _subject(subjects.unmerge(uow=uow, principal=principal, subject_id=subject_ref,
                                     reason=body.reason))


@router.post("/subjects/{subject_ref}/candidates/{candidate_ref}/dismissal", response_model=SubjectView,
             tags=["subjects"])
def dismiss_candidate(
    tenant: str, subject_ref: uuid.UUID, candidate_ref: uuid.UUID, principal: IntakeOfficer,
    uow: UnitOfWorkDep,
) -> SubjectView:
    """Records that a candidate is not the same person, so it is not offered again."""
    return _subject(subjects.dismiss_candidate(uow=uow, principal=principal, subject_id=subject_ref,
                                               candidate_id=candidate_ref))


@router.post("/subjects/{subject_ref}/re-identification", response_model=IdentityView, tags=["subjects"])
def reidentify_subject(
    tenant: str, subject_ref: uuid.UUID, body: ReidentificationIn, principal: IntakeOfficer,
    uow: UnitOfWorkDep, request: Request,
) -> IdentityView:
    """Decrypts a person's identity for a stated purpose and reason; recorded before it is returned."""
    found = subjects.reidentify(uow=uow, vault=request.app.state.vault, principal=principal,
                                subject_id=subject_ref, purpose=body.purpose.value, reason=body.reason)
    return IdentityView(subject_ref=found.subject_ref, reidentification_id=found.reidentification_id,
                        identity=found.identity, as_referred=found.as_referred)


@router.post("/vault/rotation", response_model=RotationView, tags=["vault"])
def rotate_tenant_key(
    tenant: str, principal: IntakeOfficer, uow: UnitOfWorkDep, request: Request
) -> RotationView:
    """Rotates the tenant key: re-wraps every person's data key, never re-encrypting their fields.

    Bounded per call; call again while `remaining` is above zero.
    """
    rotation = subjects.rotate(uow=uow, vault=request.app.state.vault, principal=principal)
    return RotationView(generation=rotation.generation, kek_id=rotation.kek_id, started=rotation.started,
                        rewrapped=rotation.rewrapped, remaining=rotation.remaining)


@router.post("/referrals/{referral_id}/screening", response_model=ScreeningView, tags=["screening"])
def screen_referral(
    tenant: str, referral_id: uuid.UUID, body: ScreeningIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    request: Request, response: Response, if_match: IfMatch = None,
) -> ScreeningView:
    """Records the screening outcome, with its required reason; If-Match is required.

    An escalation answers with the tenant's designated contact to hand the referral to, now.
    """
    decision = screening.screen(uow=uow, vault=request.app.state.vault, principal=principal,
                                referral_id=referral_id, decision=body, if_match=if_match)
    response.headers["ETag"] = etag(decision.referral.version)
    return _screening(decision)


@router.get("/settings/{name}", response_model=SettingView, tags=["settings"])
def get_setting(tenant: str, name: str, principal: StaffRead, uow: UnitOfWorkDep, response: Response) -> SettingView:
    """One of the tenant's settings; its ETag is what a change must send as If-Match."""
    setting = tenant_settings.get(uow=uow, name=name)
    response.headers["ETag"] = etag(setting.version)
    return SettingView(name=setting.name, value=setting.value, version=setting.version)


@router.put("/settings/{name}", response_model=SettingView, tags=["settings"])
def put_setting(
    tenant: str, name: str, body: dict[str, Any], principal: IntakeOfficer, uow: UnitOfWorkDep,
    response: Response, if_match: IfMatch = None,
) -> SettingView:
    """Replaces one of the tenant's settings (e.g. `escalation_contact`)."""
    setting = tenant_settings.put(uow=uow, principal=principal, name=name, value=body, if_match=if_match)
    response.headers["ETag"] = etag(setting.version)
    return SettingView(name=setting.name, value=setting.value, version=setting.version)


@router.get("/reports/screening-timeliness", response_model=TimelinessReport, tags=["reports"])
def screening_timeliness(
    tenant: str, principal: StaffRead, uow: UnitOfWorkDep,
    received_from: datetime | None = None, received_to: datetime | None = None,
) -> TimelinessReport:
    """Time from receipt to screening, per outcome, for referrals received in a period (default 90 days)."""
    return TimelinessReport(**screening.timeliness(uow=uow, received_from=_aware(received_from),
                                                   received_to=_aware(received_to)))


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated, tags=["webhooks"])
def create_webhook(
    tenant: str, body: WebhookIn, principal: PartnerIntegration, uow: UnitOfWorkDep, request: Request,
    response: Response,
) -> WebhookCreated:
    """Registers an endpoint for status changes of your organisation's referrals; the secret is shown once."""
    created = webhooks.register(uow=uow, vault=request.app.state.vault, principal=principal, url=body.url,
                                description=body.description, allow_private=request.app.state.webhooks.allow_private)
    response.headers["Location"] = f"{request.url.path}/{created.subscription.id}"
    return WebhookCreated(**_webhook(created.subscription).model_dump(), secret=created.secret)


@router.get("/webhooks", response_model=list[WebhookView], tags=["webhooks"])
def list_webhooks(tenant: str, principal: PartnerIntegration, uow: UnitOfWorkDep) -> list[WebhookView]:
    """Your organisation's webhooks."""
    return [_webhook(s) for s in webhooks.own_subscriptions(uow=uow, principal=principal)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookView, tags=["webhooks"])
def get_webhook(tenant: str, webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep) -> WebhookView:
    """One of your organisation's webhooks."""
    return _webhook(webhooks.own_subscription(uow=uow, principal=principal, subscription_id=webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["webhooks"])
def delete_webhook(tenant: str, webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep) -> None:
    """Stops deliveries to a webhook; its delivery log stays readable."""
    webhooks.disable(uow=uow, principal=principal, subscription_id=webhook_id)


@router.post("/webhooks/{webhook_id}/ping", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryView,
             tags=["webhooks"])
def ping_webhook(tenant: str, webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep) -> DeliveryView:
    """Queues a signed test delivery (`webhook.ping`) to check your receiver."""
    return _delivery(webhooks.ping(uow=uow, principal=principal, subscription_id=webhook_id), [])


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, tags=["webhooks"])
def list_deliveries(
    tenant: str, webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep,
    limit: Limit = 50, cursor: str | None = None,
) -> DeliveryPage:
    """The delivery log: every delivery, newest first, with each attempt's outcome."""
    after = None
    if cursor:
        at, ident = decode_cursor(cursor)
        after = (at, _uuid(ident))
    page = webhooks.deliveries(uow=uow, principal=principal, subscription_id=webhook_id, after=after, limit=limit)
    last = page[-1][0] if len(page) == limit else None
    return DeliveryPage(items=[_delivery(d, attempts) for d, attempts in page],
                        next_cursor=encode_cursor(last.created_at, str(last.id)) if last else None)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             response_model=DeliveryView, tags=["webhooks"])
def retry_delivery(
    tenant: str, webhook_id: uuid.UUID, delivery_id: uuid.UUID, principal: PartnerIntegration,
    uow: UnitOfWorkDep,
) -> DeliveryView:
    """Queues a failed delivery again, at once."""
    delivery = webhooks.redeliver(uow=uow, principal=principal, subscription_id=webhook_id,
                                  delivery_id=delivery_id)
    return _delivery(delivery, [])


@router.post("/subjects/{subject_ref}/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentView,
             tags=["consent"])
def record_consent(
    tenant: str, subject_ref: uuid.UUID, body: ConsentIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    request: Request, response: Response,
) -> ConsentView:
    """Records a consent: the person's, or a parent's or guardian's for a minor."""
    found = consent.record(uow=uow, vault=request.app.state.vault, principal=principal, subject_id=subject_ref,
                           consent_in=body)
    response.headers["Location"] = f"{request.url.path}/{found.consent.id}"
    return _consent(found)


@router.get("/subjects/{subject_ref}/consents", response_model=list[ConsentView], tags=["consent"])
def list_consents(
    tenant: str, subject_ref: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, request: Request
) -> list[ConsentView]:
    """A person's consent records, newest first, each active, expired or withdrawn."""
    return [_consent(c) for c in consent.list_for(uow=uow, vault=request.app.state.vault, principal=principal,
                                                  subject_id=subject_ref)]


@router.post("/subjects/{subject_ref}/consents/{consent_id}/withdrawal", response_model=ConsentView,
             tags=["consent"])
def withdraw_consent(
    tenant: str, subject_ref: uuid.UUID, consent_id: uuid.UUID, body: WithdrawalIn, principal: IntakeOfficer,
    uow: UnitOfWorkDep, request: Request,
) -> ConsentView:
    """Withdraws a consent in one call; every service is told through `consent.withdrawn`."""
    return _consent(consent.withdraw(uow=uow, vault=request.app.state.vault, principal=principal,
                                     subject_id=subject_ref, consent_id=consent_id, withdrawal=body))


def _consent(found: consent.ConsentRecord) -> ConsentView:
    record, opened = found.consent, found.opened
    return ConsentView(
        id=record.id, subject_ref=found.subject_ref, state=record.state(datetime.now(UTC)),
        given_by=record.given_by, giver_name=opened.get("giver_name"), purposes=record.purposes,
        recipients=record.recipients, method=record.method, given_at=record.given_at, expires_at=record.expires_at,
        evidence=opened.get("evidence"), note=opened.get("note"), recorded_by=record.recorded_by,
        recorded_at=record.recorded_at, withdrawn_at=record.withdrawn_at, withdrawn_by=record.withdrawn_by,
        withdrawal_method=record.withdrawal_method,
    )


@router.post("/subjects/{subject_ref}/rights-requests", status_code=status.HTTP_201_CREATED,
             response_model=RightsRequestView, tags=["rights"])
def open_rights_request(
    tenant: str, subject_ref: uuid.UUID, body: RightsRequestIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    request: Request, response: Response,
) -> RightsRequestView:
    """Records a request by (or for) the person, with its statutory due date."""
    opened = rights.open_request(uow=uow, vault=request.app.state.vault, principal=principal,
                                 subject_id=subject_ref, request_in=body)
    response.headers["Location"] = f"/v1/tenants/{tenant}/rights-requests/{opened.id}"
    return _rights(opened)


@router.get("/rights-requests", response_model=RightsRequestPage, tags=["rights"])
def list_rights_requests(
    tenant: str, principal: RightsRead, uow: UnitOfWorkDep,
    status: Literal["open", "fulfilled", "refused"] | None = None, overdue: bool = False,
    limit: Limit = 50, cursor: str | None = None,
) -> RightsRequestPage:
    """Rights requests, soonest due first; `overdue=true` lists the open ones past their due date."""
    after = None
    if cursor:
        at, ident = decode_cursor(cursor)
        after = (at, _uuid(ident))
    found = rights.list_requests(uow=uow, status=status, overdue=overdue, after=after, limit=limit)
    last = found[-1] if len(found) == limit else None
    return RightsRequestPage(items=[_rights(r) for r in found],
                             next_cursor=encode_cursor(last.due_at, str(last.id)) if last else None)


@router.get("/rights-requests/{request_id}", response_model=RightsRequestView, tags=["rights"])
def get_rights_request(
    tenant: str, request_id: uuid.UUID, principal: RightsRead, uow: UnitOfWorkDep
) -> RightsRequestView:
    """One rights request."""
    return _rights(rights.get_request(uow=uow, request_id=request_id))


@router.post("/rights-requests/{request_id}/fulfilment", response_model=AccessFulfilment, tags=["rights"])
def fulfil_access_request(
    tenant: str, request_id: uuid.UUID, principal: IntakeOfficer, uow: UnitOfWorkDep, request: Request
) -> AccessFulfilment:
    """Gathers everything held about the person, from intake and the other services, as one document.

    The request is fulfilled when every part is in; otherwise `gaps` says what is missing and why.
    """
    fulfilled, document = rights.fulfil_access(
        uow=uow, vault=request.app.state.vault, principal=principal, request_id=request_id,
        authorization=request.headers.get("authorization"), sources=rights.export_sources())
    return AccessFulfilment(request=_rights(fulfilled), complete=fulfilled.status == "fulfilled", document=document)


@router.post("/rights-requests/{request_id}/closure", response_model=RightsRequestView, tags=["rights"])
def close_rights_request(
    tenant: str, request_id: uuid.UUID, body: ClosureIn, principal: IntakeOfficer, uow: UnitOfWorkDep
) -> RightsRequestView:
    """Closes a request by hand: refused (with the reason), or fulfilled outside the system."""
    return _rights(rights.close_request(uow=uow, principal=principal, request_id=request_id,
                                        outcome=body.outcome, reason=body.reason))


@router.patch("/subjects/{subject_ref}/identity", response_model=RectificationView, tags=["rights"])
def rectify_identity(
    tenant: str, subject_ref: uuid.UUID, body: RectificationIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    request: Request, response: Response, if_match: IfMatch = None,
) -> RectificationView:
    """Corrects identifying data (the subject's ETag as If-Match); audited, values never echoed."""
    subject, changed = rights.rectify(uow=uow, vault=request.app.state.vault, principal=principal,
                                      subject_id=subject_ref, change=body, if_match=if_match)
    response.headers["ETag"] = etag(subject.version)
    return RectificationView(subject_ref=subject.id, version=subject.version, changed=changed)


@router.post("/subjects/{subject_ref}/erasure", response_model=ErasureView, tags=["rights"])
def erase_subject(
    tenant: str, subject_ref: uuid.UUID, body: ErasureIn, principal: IntakeOfficer, uow: UnitOfWorkDep
) -> ErasureView:
    """Erases the person by destroying their data key; every service is told through `subject.erased`."""
    erasure = rights.erase(uow=uow, principal=principal, subject_id=subject_ref, reason=body.reason,
                           rights_request_id=body.rights_request_id)
    return ErasureView(subject_ref=erasure.subject_ref, erased_subjects=erasure.erased, erased_at=erasure.at,
                       cleared=erasure.cleared)


@router.post("/retention/runs", status_code=status.HTTP_201_CREATED, response_model=RetentionRunView,
             tags=["retention"])
def run_retention(tenant: str, principal: IntakeOfficer, uow: UnitOfWorkDep) -> RetentionRunView:
    """Runs the retention job in this tenant now (it also runs on a schedule), and reports what it did."""
    return _retention(retention.run(uow=uow, actor=principal.actor))


@router.get("/retention/runs", response_model=list[RetentionRunView], tags=["retention"])
def list_retention_runs(tenant: str, principal: RightsRead, uow: UnitOfWorkDep, limit: Limit = 50) -> list[
        RetentionRunView]:
    """The latest retention runs and what each did."""
    return [_retention(r) for r in retention.runs(uow=uow, limit=limit)]


def _rights(found: RightsRequest) -> RightsRequestView:
    return RightsRequestView(
        id=found.id, subject_ref=found.subject_id, kind=found.kind, requested_by=found.requested_by,
        received_at=found.received_at, due_at=found.due_at,
        overdue=found.status == "open" and found.due_at < datetime.now(UTC), status=found.status,
        outcome=found.outcome, gaps=found.gaps or [], last_attempt_at=found.last_attempt_at,
        closed_at=found.closed_at, closed_by=found.closed_by, recorded_by=found.recorded_by,
    )


def _retention(run: RetentionRun) -> RetentionRunView:
    return RetentionRunView(id=run.id, ran_at=run.ran_at, ran_by=run.ran_by, report=run.report)


def _webhook(subscription: WebhookSubscription) -> WebhookView:
    return WebhookView(id=subscription.id, url=subscription.url, description=subscription.description,
                       events=[webhooks.STATUS_CHANGED], active=subscription.disabled_at is None,
                       created_at=subscription.created_at)


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryView:
    return DeliveryView(
        id=delivery.id, event_type=delivery.event_type, state=delivery.state, attempts=delivery.attempts,
        created_at=delivery.created_at, next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at, last_status=delivery.last_status, last_error=delivery.last_error,
        payload=delivery.payload,
        attempt_log=[AttemptView(attempt=a.attempt, at=a.at, status_code=a.status_code, error=a.error,
                                 duration_ms=a.duration_ms) for a in attempts],
    )


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationFailed("The cursor is not one this API issued.") from exc


def _screening(decision: screening.Decision) -> ScreeningView:
    record, referral = decision.screening, decision.referral
    return ScreeningView(
        referral_id=referral.id, outcome=record.outcome, reason=record.reason,
        service_detail=decision.service_detail, note=decision.note, screened_at=record.decided_at,
        screened_by=record.decided_by, time_to_screen_seconds=referral.screening_seconds or 0,
        handoff=record.handoff,
    )


def _referral(item: Referral | ReferralDetail) -> Referral:
    return item.referral if isinstance(item, ReferralDetail) else item


def _view(item: Referral | ReferralDetail) -> ReferralView | ReferralStatus:
    if not isinstance(item, ReferralDetail):
        return ReferralStatus(id=item.id, status=item.partner_status, received_at=item.received_at)
    referral, content = item.referral, item.content
    coded = referral.coded or {}
    return ReferralView(
        id=referral.id,
        status=referral.status,
        received_at=referral.received_at,
        subject_ref=referral.subject_id,
        version=referral.version,
        updated_at=referral.updated_at,
        screener=referral.screener,
        priority=referral.priority,
        organisation=referral.organisation,
        source_type=referral.source_type,
        concern=content.get("concern", ""),
        indicators=referral.indicators,
        flags=[Flag(code=f, guidance=FLAG_GUIDANCE.get(f, "")) for f in referral.flags or []],
        is_minor=referral.is_minor,
        age_band=referral.age_band,
        referrer=content.get("referrer"),
        observed_behaviour=content.get("observed_behaviour"),
        online_activity=_present(platforms=coded.get("online_platforms") or [],
                                 description=content.get("online_activity_description")),
        concerning_contacts=content.get("concerning_contacts"),
        intent_to_harm=None if coded.get("intent_expressed") is None else {
            "expressed": coded["intent_expressed"], "targets": coded.get("intent_targets") or [],
            "description": content.get("intent_description")},
        needs=_present(codes=coded.get("needs") or [], description=content.get("needs_description")),
        safeguarding=_present(family=coded.get("safeguarding_family") or [],
                              peers=coded.get("safeguarding_peers") or [],
                              description=content.get("safeguarding_description")),
        discussed=_present(with_person=coded.get("discussed_with_person"),
                           with_guardians=coded.get("discussed_with_guardians"),
                           summary=content.get("discussed_summary")),
        referrer_fears=content.get("referrer_fears"),
        external_document=content.get("external_document"),
        outcome=referral.outcome,
        screening=_screening(item.decision) if item.decision else None,
        **_history(item.history, exclude=referral.id),
    )


def _history(history: History | None, *, exclude: uuid.UUID) -> dict[str, Any]:
    if history is None:
        return {}
    prior = [_prior(r) for r in history.referrals if r.id != exclude]
    return {"repeat_referral": bool(prior), "prior_referrals": prior,
            "duplicate_candidates": [_candidate(c) for c in history.candidates]}


def _prior(referral: Referral) -> PriorReferral:
    return PriorReferral(id=referral.id, received_at=referral.received_at, status=referral.status,
                         outcome=referral.outcome, source_type=referral.source_type,
                         organisation=referral.organisation)


def _candidate(candidate: CandidateSummary) -> CandidateView:
    return CandidateView(subject_ref=candidate.subject_ref, score=candidate.score, signals=candidate.signals,
                         referrals=candidate.referrals, statuses=candidate.statuses, outcomes=candidate.outcomes)


def _subject(history: History) -> SubjectView:
    return SubjectView(
        subject_ref=history.subject_ref,
        merged_subjects=[m for m in history.members if m != history.subject_ref],
        referrals=[_prior(r) for r in history.referrals],
        duplicate_candidates=[_candidate(c) for c in history.candidates],
    )


def _present(**fields: object) -> dict[str, object] | None:
    """The part as a dict, or None when the referrer left all of it out."""
    return fields if any(v not in (None, []) for v in fields.values()) else None


def _vocabulary(vocabulary: Vocabulary) -> VocabularyView:
    return VocabularyView(name=vocabulary.name, entries=list(vocabulary.entries),
                          version=vocabulary.version, overridden=vocabulary.overridden)

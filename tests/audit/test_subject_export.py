"""Subject exports: one person's entries, each with an inclusion proof against a signed checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import export as export_module
from harambee_audit.app import create_app
from harambee_audit.checkpointer import Checkpointer
from harambee_audit.entries import canonical_json
from harambee_audit.export import subject_entry_line
from harambee_audit.merkle import leaf_hash
from harambee_audit.signing import CheckpointSigner
from harambee_audit.verify import Report
from harambee_audit.verify_subject import verify_subject_export
from harambee_common.consumer import EventConsumer
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]
Lines = list[bytes]
PERSON = "3f1c2a4e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"  # a subject reference
ABOUT_PERSON = [1, 4, 5, 9]  # seq 5 names the person in its data only (a case opened for them)


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


@pytest.fixture
def log_of_twelve(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], signer: CheckpointSigner, tenant: str
) -> str:
    """Entries 0..11, four of them about PERSON, with checkpoints at sizes 8 and 12."""
    audit = consumer(checkpoint_every=8)
    for seq in range(12):
        if seq == 5:
            event = make_event(tenant, type="case.opened", subject="case-77", subject_ref=PERSON)
        else:
            event = make_event(tenant, subject=PERSON if seq in ABOUT_PERSON else f"subj-{seq}")
        deliver(audit, event)
    Checkpointer(sessions=sessions, signer=signer, max_age_seconds=0).run_once()
    return tenant


def subject_export(api: TestClient, issuer: TokenIssuer, tenant: str, subject: str = PERSON, **params: int) -> Lines:
    response = api.get(f"/v1/tenants/{tenant}/export", params={"subject": subject, **params},
                       headers=issuer.headers(tenants={tenant: OFFICER}))
    assert response.status_code == 200, response.text
    return response.content.splitlines(keepends=True)


def findings(report: Report) -> str:
    return "\n".join(str(f) for f in report.findings)


def entry_at(lines: Lines, seq: int) -> int:
    for i, line in enumerate(lines):
        if line.startswith(b'{"audit_path"') and json.loads(line)["entry"]["seq"] == seq:
            return i
    raise AssertionError(f"seq {seq} is not in the export")


def test_a_subject_export_holds_only_that_persons_entries_and_verifies(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_twelve: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_module, "PROOF_BATCH", 3)  # proofs built over several batches

    lines = subject_export(api, issuer, log_of_twelve)

    docs = [json.loads(line) for line in lines]
    assert [d["kind"] for d in docs] == ["header", "checkpoint", "entry", "entry", "entry", "entry", "trailer"]
    assert (docs[0]["subject"], docs[0]["to"], docs[1]["tree_size"]) == (PERSON, 12, 12)
    assert [d["entry"]["seq"] for d in docs[2:6]] == ABOUT_PERSON
    report = verify_subject_export(lines, signer.verifier)
    assert report.ok, findings(report)
    assert (report.subject, report.entries, report.end, report.checkpoints) == (PERSON, 4, 12, 1)


def test_a_subject_export_can_be_proven_against_an_earlier_checkpoint(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_twelve: str
) -> None:
    lines = subject_export(api, issuer, log_of_twelve, to=8, **{"from": 2})

    report = verify_subject_export(lines, signer.verifier)

    assert report.ok, findings(report)
    assert [json.loads(line)["entry"]["seq"] for line in lines[2:-1]] == [4, 5]


def test_a_subject_export_needs_a_signed_checkpoint(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], log_of_twelve: str, tenant: str
) -> None:
    headers = issuer.headers(tenants={log_of_twelve: OFFICER})
    unsigned = f"{tenant}-unsigned"
    deliver(consumer(), make_event(unsigned, subject=PERSON))

    not_a_checkpoint = api.get(f"/v1/tenants/{log_of_twelve}/export", params={"subject": PERSON, "to": 10},
                               headers=headers)
    none_yet = api.get(f"/v1/tenants/{unsigned}/export", params={"subject": PERSON},
                       headers=issuer.headers(tenants={unsigned: OFFICER}))

    assert not_a_checkpoint.status_code == 422
    assert none_yet.status_code == 409 and none_yet.json()["type"].endswith("/not-yet-checkpointed")


def _edit(lines: Lines, seq: int, *, rehash: bool) -> Lines:
    i = entry_at(lines, seq)
    doc = json.loads(lines[i])
    doc["entry"]["type"] = "referral.withdrawn"
    canonical = canonical_json(doc["entry"])
    leaf = leaf_hash(canonical) if rehash else bytes.fromhex(doc["leaf_hash"])
    path = [bytes.fromhex(h) for h in doc["audit_path"]]
    return [*lines[:i], subject_entry_line(path, canonical, leaf), *lines[i + 1 :]]


def _forge(lines: Lines) -> Lines:
    """A well-formed entry about the person, with a proof borrowed from a genuine one."""
    doc = json.loads(lines[entry_at(lines, 9)])
    entry = {**doc["entry"], "seq": 10, "event_id": "forged"}
    canonical = canonical_json(entry)
    forged = subject_entry_line([bytes.fromhex(h) for h in doc["audit_path"]], canonical, leaf_hash(canonical))
    return [*lines[:-1], forged, lines[-1]]


def _swap_paths(lines: Lines) -> Lines:
    a, b = json.loads(lines[entry_at(lines, 4)]), json.loads(lines[entry_at(lines, 5)])
    moved = [
        subject_entry_line([bytes.fromhex(h) for h in other["audit_path"]], canonical_json(doc["entry"]),
                           bytes.fromhex(doc["leaf_hash"]))
        for doc, other in ((a, b), (b, a))
    ]
    i = entry_at(lines, 4)
    return [*lines[:i], *moved, *lines[i + 2 :]]


def _resign(lines: Lines) -> Lines:
    doc = json.loads(lines[1])
    doc["note"] = CheckpointSigner.generate().sign_note(doc["note"].partition("\n\n")[0] + "\n")
    return [lines[0], canonical_json(doc) + b"\n", *lines[2:]]


def _alter_root(lines: Lines) -> Lines:
    doc = json.loads(lines[1])
    body, _, signature = doc["note"].partition("\n\n")
    parts = body.split("\n")
    parts[2] = "A" * 43 + "="
    doc["note"] = "\n".join(parts) + "\n\n" + signature
    return [lines[0], canonical_json(doc) + b"\n", *lines[2:]]


TAMPERINGS: dict[str, tuple[Callable[[Lines, Lines], Lines], list[str]]] = {
    "edit a field": (lambda ls, _: _edit(ls, 4, rehash=False), ["entry seq 4: its content does not match"]),
    "edit a field and its hash": (
        lambda ls, _: _edit(ls, 4, rehash=True), ["entry seq 4: is not in the log signed at size 12"],
    ),
    "drop an entry": (
        lambda ls, _: [line for i, line in enumerate(ls) if i != entry_at(ls, 5)], ["trailer: its counts differ"],
    ),
    "reorder two entries": (
        lambda ls, _: [*ls[:3], ls[4], ls[3], *ls[5:]], ["entry seq 4: out of order or repeated after seq 5"],
    ),
    "insert a forged entry": (lambda ls, _: _forge(ls), ["entry seq 10: is not in the log signed at size 12"]),
    "insert another person's genuine entry": (
        lambda ls, other: [*ls[:-1], other[2], ls[-1]], [f"is not about subject {PERSON}: it was inserted"],
    ),
    "swap two audit paths": (
        lambda ls, _: _swap_paths(ls),
        ["entry seq 4: is not in the log", "entry seq 5: is not in the log"],
    ),
    "replace the checkpoint's root": (
        lambda ls, _: _alter_root(ls), ["checkpoint of size 12: its signature is not valid", "nothing is proven"],
    ),
    "sign the checkpoint with another key": (
        lambda ls, _: _resign(ls), ["checkpoint of size 12: not signed by the pinned key"],
    ),
    "cut the export short": (lambda ls, _: ls[:-2], ["the export is cut off"]),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_tampering_with_a_subject_export_is_detected_and_located(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_twelve: str, tampering: str
) -> None:
    change, expected = TAMPERINGS[tampering]
    lines = subject_export(api, issuer, log_of_twelve)
    other = subject_export(api, issuer, log_of_twelve, subject="subj-3")

    report = verify_subject_export(change(lines, other), signer.verifier)

    assert not report.ok
    for fragment in expected:
        assert fragment in findings(report), findings(report)


def test_the_installed_verifier_checks_a_subject_export(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_twelve: str, tmp_path: Path
) -> None:
    lines = subject_export(api, issuer, log_of_twelve)
    good, bad = tmp_path / "person.jsonl", tmp_path / "tampered.jsonl"
    good.write_bytes(b"".join(lines))
    bad.write_bytes(b"".join(_edit(lines, 5, rehash=True)))
    command = [str(Path(sys.executable).parent / "harambee-audit"), "verify", "--public-key",
               signer.verifier.note_key]

    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, timeout=60)
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)

    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED: each of the 4 entries is about this subject" in ok.stdout
    assert "does not prove that the log holds no other entry" in ok.stdout
    assert failed.returncode == 1
    assert f"line {entry_at(lines, 5) + 1}, entry seq 5: is not in the log signed at size 12" in failed.stdout

"""Exports and the offline verifier: an untouched export verifies; any tampering is found and located."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import verify as verify_module
from harambee_audit.app import create_app
from harambee_audit.checkpointer import Checkpointer
from harambee_audit.entries import canonical_json
from harambee_audit.export import entry_line
from harambee_audit.merkle import leaf_hash
from harambee_audit.signing import CheckpointBody, CheckpointSigner
from harambee_audit.verify import Report, verify_export
from harambee_common.consumer import EventConsumer
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]
Lines = list[bytes]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


@pytest.fixture
def log_of_ten(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], signer: CheckpointSigner,
    tenant: str,
) -> str:
    """A tenant with entries 0..9 and checkpoints at sizes 4, 8 and 10."""
    audit = consumer(checkpoint_every=4)
    for _ in range(10):
        deliver(audit, make_event(tenant))
    Checkpointer(sessions=sessions, signer=signer, max_age_seconds=0).run_once()
    return tenant


def export(api: TestClient, issuer: TokenIssuer, tenant: str, **params: int) -> Lines:
    response = api.get(
        f"/v1/tenants/{tenant}/export", params=params, headers=issuer.headers(tenants={tenant: OFFICER})
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    return response.content.splitlines(keepends=True)


def verify(lines: Lines, signer: CheckpointSigner, **options: bool) -> Report:
    return verify_export(lines, signer.verifier, **options)


def index_of(lines: Lines, *, seq: int | None = None, tree_size: int | None = None) -> int:
    for i, line in enumerate(lines):
        doc = json.loads(line)
        if seq is not None and doc.get("kind") == "entry" and doc["entry"]["seq"] == seq:
            return i
        if tree_size is not None and doc.get("kind") == "checkpoint" and doc["tree_size"] == tree_size:
            return i
    raise AssertionError("not in the export")


def findings(report: Report) -> str:
    return "\n".join(str(f) for f in report.findings)


def test_a_whole_export_verifies(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str
) -> None:
    lines = export(api, issuer, log_of_ten)

    report = verify(lines, signer)

    assert report.ok, findings(report)
    assert (report.start, report.end, report.entries, report.covered) == (0, 10, 10, 10)
    assert report.checkpoints == 3
    assert [json.loads(line)["kind"] for line in lines[:1] + lines[-1:]] == ["header", "trailer"]


@pytest.mark.parametrize(("start", "end"), [(3, 6), (4, 8), (5, 5), (0, 3), (9, 10)])
def test_a_range_export_verifies_through_its_prefix_and_the_checkpoints_around_it(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str, start: int, end: int
) -> None:
    report = verify(export(api, issuer, log_of_ten, **{"from": start, "to": end}), signer)

    assert report.ok, findings(report)
    assert (report.entries, report.covered) == (end - start, end)


def test_entries_no_checkpoint_covers_fail_unless_allowed(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], signer: CheckpointSigner,
    tenant: str,
) -> None:
    audit = consumer(checkpoint_every=4)
    for _ in range(6):
        deliver(audit, make_event(tenant))
    lines = export(api, issuer, tenant, to=6)

    assert "seq 4..5 are not covered by a signed checkpoint" in findings(verify(lines, signer))
    assert verify(lines, signer, allow_unsigned_tail=True).ok


def test_a_range_outside_the_log_is_a_validation_problem(
    api: TestClient, issuer: TokenIssuer, log_of_ten: str
) -> None:
    response = api.get(
        f"/v1/tenants/{log_of_ten}/export",
        params={"to": 11},
        headers=issuer.headers(tenants={log_of_ten: OFFICER}),
    )
    assert response.status_code == 422


def _edit_entry(lines: Lines, seq: int, *, rehash: bool) -> Lines:
    i = index_of(lines, seq=seq)
    doc = json.loads(lines[i])
    doc["entry"]["type"] = "referral.withdrawn"
    canonical = canonical_json(doc["entry"])
    leaf = leaf_hash(canonical) if rehash else bytes.fromhex(doc["leaf_hash"])
    return [*lines[:i], entry_line(canonical, leaf), *lines[i + 1 :]]


def _forged_entry_after(lines: Lines, seq: int) -> Lines:
    """A well-formed entry with the next seq and the right prev hash, slipped in after seq."""
    i = index_of(lines, seq=seq)
    before = json.loads(lines[i])
    entry = {**before["entry"], "seq": seq + 1, "prev": before["leaf_hash"], "event_id": "forged"}
    canonical = canonical_json(entry)
    return [*lines[: i + 1], entry_line(canonical, leaf_hash(canonical)), *lines[i + 1 :]]


def _swap(lines: Lines, a: int, b: int) -> Lines:
    lines = list(lines)
    lines[a], lines[b] = lines[b], lines[a]
    return lines


def _replace_checkpoint(lines: Lines, tree_size: int, change: Callable[[dict], None]) -> Lines:
    i = index_of(lines, tree_size=tree_size)
    doc = json.loads(lines[i])
    change(doc)
    return [*lines[:i], canonical_json(doc) + b"\n", *lines[i + 1 :]]


def _alter_signed_root(doc: dict) -> None:
    body, _, signature = doc["note"].partition("\n\n")
    lines = body.split("\n")
    lines[2] = "A" * 43 + "="
    doc["note"] = "\n".join(lines) + "\n\n" + signature


def _resign_with_another_key(doc: dict) -> None:
    body = doc["note"].partition("\n\n")[0] + "\n"
    doc["note"] = CheckpointSigner.generate().sign_note(body)


TAMPERINGS: dict[str, tuple[Callable[[Lines], Lines], list[str]]] = {
    "edit a field": (lambda ls: _edit_entry(ls, 5, rehash=False), ["entry seq 5", "altered"]),
    "edit a field and its hash": (
        lambda ls: _edit_entry(ls, 5, rehash=True),
        ["entry seq 6: does not follow the entry before it", "checkpoint of size 8: the entries before it"],
    ),
    "drop an entry": (
        lambda ls: [line for i, line in enumerate(ls) if i != index_of(ls, seq=5)],
        ["entry seq 6: entries are missing before it (seq 5)"],
    ),
    "reorder two entries": (
        lambda ls: _swap(ls, index_of(ls, seq=5), index_of(ls, seq=6)),
        ["entry seq 6: entries are missing before it (seq 5)", "entry seq 5: out of order or repeated"],
    ),
    "insert a forged entry": (
        lambda ls: _forged_entry_after(ls, 5),
        [
            "entry seq 6: out of order or repeated where seq 7 belongs",
            "checkpoint of size 8: comes after entry seq 8",
        ],
    ),
    "insert a copy of an entry": (
        lambda ls: [*ls[: index_of(ls, seq=5)], ls[index_of(ls, seq=2)], *ls[index_of(ls, seq=5) :]],
        ["entry seq 2: out of order or repeated where seq 5 belongs"],
    ),
    "replace a checkpoint's root": (
        lambda ls: _replace_checkpoint(ls, 8, _alter_signed_root),
        ["checkpoint of size 8: its signature is not valid"],
    ),
    "sign a checkpoint with another key": (
        lambda ls: _replace_checkpoint(ls, 8, _resign_with_another_key),
        ["checkpoint of size 8: not signed by the pinned key"],
    ),
    "cut the export short": (lambda ls: ls[:-1], ["the export is cut off"]),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_tampering_is_detected_and_located(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str, tampering: str
) -> None:
    change, expected = TAMPERINGS[tampering]
    lines = export(api, issuer, log_of_ten)

    report = verify(change(lines), signer)

    assert not report.ok
    for fragment in expected:
        assert fragment in findings(report), findings(report)


def test_another_tenants_genuine_checkpoint_does_not_pass_for_this_one(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], signer: CheckpointSigner,
    log_of_ten: str, tenant: str,
) -> None:
    other = f"{tenant}-other"
    audit = consumer(checkpoint_every=8)
    for _ in range(8):
        deliver(audit, make_event(other))
    foreign = export(api, issuer, other)[index_of(export(api, issuer, other), tree_size=8)]
    lines = export(api, issuer, log_of_ten)
    i = index_of(lines, tree_size=8)

    report = verify([*lines[:i], foreign, *lines[i + 1 :]], signer)

    expected = f"checkpoint of size 8: signed for another log (harambee.example/audit/{other})"
    assert expected in findings(report)


def test_the_installed_verifier_reports_success_and_the_failing_line(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str, tmp_path: Path
) -> None:
    lines = export(api, issuer, log_of_ten)
    good, bad, key = tmp_path / "good.jsonl", tmp_path / "bad.jsonl", tmp_path / "audit.pub"
    good.write_bytes(b"".join(lines))
    bad.write_bytes(b"".join(_edit_entry(lines, 7, rehash=False)))
    key.write_text(signer.verifier.pem)
    command = [str(Path(sys.executable).parent / "harambee-audit"), "verify", "--public-key", str(key)]

    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, timeout=60)
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    note_key = subprocess.run(
        [*command[:3], signer.verifier.note_key, str(good)], capture_output=True, text=True, timeout=60
    )

    assert ok.returncode == 0 and "VERIFIED" in ok.stdout, ok.stdout + ok.stderr
    assert note_key.returncode == 0, note_key.stdout + note_key.stderr
    line = index_of(lines, seq=7) + 1
    assert failed.returncode == 1
    assert f"line {line}, entry seq 7: its content does not match its leaf hash" in failed.stdout


def _move_entry_after(lines: Lines, seq: int, after: int) -> Lines:
    """Entry seq taken out and put back after entry `after`."""
    moved = lines[index_of(lines, seq=seq)]
    rest = [line for line in lines if line is not moved]
    i = index_of(rest, seq=after)
    return [*rest[: i + 1], moved, *rest[i + 1 :]]


# Beyond TAMPERINGS: changes whose findings depend on the entries and lines around a chunk's edge.
EDGE_TAMPERINGS: dict[str, Callable[[Lines], Lines]] = {
    "move an entry two places on": lambda ls: _move_entry_after(ls, 3, 5),
    "drop a checkpoint": lambda ls: [line for i, line in enumerate(ls) if i != index_of(ls, tree_size=8)],
    "drop two entries before a checkpoint": lambda ls: [
        line for i, line in enumerate(ls) if i not in (index_of(ls, seq=6), index_of(ls, seq=7))
    ],
    "insert a line that is not JSON": lambda ls: [*ls[:4], b"not json\n", *ls[4:]],
    "insert a blank line": lambda ls: [*ls[:6], b"\n", *ls[6:]],
    "put a carriage return inside an entry": lambda ls: [
        line[:40] + b"\r" + line[40:] if i == index_of(ls, seq=2) else line for i, line in enumerate(ls)
    ],
}


def _chunkings(path: Path, start: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Chunk sizes that between them cut the file every way a size from one byte to the whole file cuts it.

    A chunk from byte `a` ends at the first line start past `a + size`, so the cuts move only at sizes
    `b - a` between two line starts: trying those (each set of cuts once) tries every size.
    """
    data = path.read_bytes()
    starts = [start, *(i + 1 for i in range(start, len(data)) if data[i] == ord("\n"))]
    seen: set[tuple[tuple[int, int], ...]] = set()
    for size in sorted({1} | {b - a for a in starts for b in starts if b > a}):
        monkeypatch.setattr(verify_module, "CHUNK_BYTES", size)
        cuts = tuple(verify_module._boundaries(path, start))
        if cuts not in seen:
            seen.add(cuts)
            yield size


@pytest.mark.parametrize("case", ["untouched", "range with a closing checkpoint", *TAMPERINGS, *EDGE_TAMPERINGS])
def test_verifying_in_chunks_of_any_size_agrees_exactly_with_one_pass(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, case: str,
) -> None:
    if case == "range with a closing checkpoint":
        lines = export(api, issuer, log_of_ten, **{"from": 3, "to": 6})
    else:
        lines = export(api, issuer, log_of_ten)
        change = TAMPERINGS[case][0] if case in TAMPERINGS else EDGE_TAMPERINGS.get(case, lambda ls: ls)
        lines = change(lines)
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    one_pass = verify(lines, signer)
    assert one_pass.ok == (case in ("untouched", "range with a closing checkpoint")), findings(one_pass)

    sizes = list(_chunkings(path, len(lines[0]), monkeypatch))
    assert len(sizes) > len(lines)  # from a chunk per line to one chunk for the file
    for size in sizes:
        monkeypatch.setattr(verify_module, "CHUNK_BYTES", size)
        chunked = verify_module.verify_file(path, signer.verifier, workers=1)
        assert chunked == one_pass, f"chunks of {size} bytes:\n{findings(chunked)}\none pass:\n{findings(one_pass)}"
    for batch in range(1, len(lines) + 1):  # and lines given in batches of any length
        monkeypatch.setattr(verify_module, "CHUNK_LINES", batch)
        batched = verify(lines, signer)
        assert batched == one_pass, f"batches of {batch} lines:\n{findings(batched)}\none pass:\n{findings(one_pass)}"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_is_verified_in_chunks_across_processes_with_the_same_findings(
    api: TestClient, issuer: TokenIssuer, signer: CheckpointSigner, log_of_ten: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, workers: int,
) -> None:
    monkeypatch.setattr(verify_module, "CHUNK_BYTES", 1500)  # a few entries a chunk
    lines = export(api, issuer, log_of_ten)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(b"".join(lines))
    tampered = [line for i, line in enumerate(lines) if i != index_of(lines, seq=5)]
    bad.write_bytes(b"".join(tampered))

    assert len(verify_module._boundaries(good, 0)) > 3
    report = verify_module.verify_file(good, signer.verifier, workers=workers)
    assert report.ok, findings(report)
    assert (report.entries, report.checkpoints, report.covered) == (10, 3, 10)
    failed = verify_module.verify_file(bad, signer.verifier, workers=workers)
    assert failed == verify(tampered, signer)
    assert "entry seq 6: entries are missing before it (seq 5)" in findings(failed)


def test_signed_checkpoint_bodies_are_c2sp_checkpoints(signer: CheckpointSigner) -> None:
    body = CheckpointBody(origin="harambee.example/audit/x", tree_size=3, root_hash=b"\x01" * 32, time="t")
    note = signer.sign_note(body.text())

    assert note.startswith("harambee.example/audit/x\n3\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n")
    assert "\n\n\u2014 harambee-audit " in note
    assert CheckpointBody.parse(signer.verifier.verify_note(note) or "") == body

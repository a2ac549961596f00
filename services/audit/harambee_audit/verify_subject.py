"""The offline verifier for a subject export: one person's entries, each proven against one signed checkpoint.

For every entry line it recomputes the leaf hash from the exported bytes, checks that the entry is
this tenant's, about this subject, in log order and inside the range, and that its audit path leads
to the root the checkpoint signs. What it cannot show is that the log holds no other entry about the
person: the report says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from harambee_audit.export import ENTRY_MIDDLE, SUBJECT_FORMAT
from harambee_audit.merkle import HASH_SIZE, verify_inclusion
from harambee_audit.signing import CheckpointBody, VerifierKey
from harambee_audit.verify import Report, signature_problem

PATH_PREFIX = b'{"audit_path":['
PATH_END = b'],"entry":'
_TAIL = len(ENTRY_MIDDLE) + 2 * HASH_SIZE + len(b'"}')
PROGRESS_EVERY = 10_000


def is_subject_export(header_line: bytes) -> bool:
    """Whether an export's first line is the header of a subject export."""
    try:
        header = json.loads(header_line)
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("format") == SUBJECT_FORMAT


def _about(entry: dict[str, Any], subject: str) -> bool:
    """The service's own rule for "about this person": the entry's subject or its data's subject_ref."""
    data = entry.get("data")
    return entry.get("subject") == subject or (isinstance(data, dict) and data.get("subject_ref") == subject)


def _path(raw: bytes) -> list[bytes] | None:
    if not raw:
        return []
    hashes = []
    for item in raw.split(b","):
        if len(item) != 2 * HASH_SIZE + 2 or item[:1] != b'"' or item[-1:] != b'"':
            return None
        try:
            hashes.append(bytes.fromhex(item[1:-1].decode()))
        except ValueError:
            return None
    return hashes


class SubjectVerifier:
    """Checks a subject export line by line, in order."""

    def __init__(self, key: VerifierKey) -> None:
        self.key = key
        self.report = Report()
        self.origin: str | None = None
        self.root: bytes | None = None  # the signed root, once the checkpoint verified
        self.last_seq = -1
        self.stage = "header"  # header, checkpoint, entries, done

    def line(self, number: int, raw: bytes) -> None:
        """Checks one line of the export."""
        if self.stage == "done":
            self.report.add(number, "line", "after the trailer")
        elif raw.startswith(PATH_PREFIX):
            self.entry(number, raw)
        else:
            self.other(number, raw)

    def other(self, number: int, raw: bytes) -> None:
        try:
            doc = json.loads(raw)
        except ValueError:
            self.report.add(number, "line", "not JSON")
            return
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if self.stage == "header":
            self.header(number, doc if kind == "header" else None)
        elif kind == "checkpoint" and self.stage == "checkpoint":
            self.checkpoint(number, doc)
        elif kind == "trailer":
            self.trailer(number, doc)
        else:
            self.report.add(number, "line", f"unexpected {kind or 'line'} here")

    def header(self, number: int, doc: dict | None) -> None:
        report = self.report
        self.stage = "checkpoint"
        if doc is None or doc.get("format") != SUBJECT_FORMAT:
            report.add(number, "header", "the export does not start with a subject export's header")
            return
        report.tenant, report.subject, self.origin = doc.get("tenant"), doc.get("subject"), doc.get("origin")
        report.start, report.end = int(doc.get("from", 0)), int(doc.get("to", 0))

    def checkpoint(self, number: int, doc: dict) -> None:
        report = self.report
        self.stage = "entries"
        where = f"checkpoint of size {doc.get('tree_size')}"
        note = str(doc.get("note", ""))
        body_text = self.key.verify_note(note)
        if body_text is None:
            report.add(number, where, signature_problem(self.key, note))
            return
        try:
            body = CheckpointBody.parse(body_text)
        except ValueError as exc:
            report.add(number, where, f"the signed note is not a checkpoint: {exc}")
            return
        if body.origin != self.origin:
            report.add(number, where, f"signed for another log ({body.origin})")
            return
        if body.tree_size != report.end:
            report.add(number, where, f"the export is proven against size {report.end}, not {body.tree_size}")
            return
        if doc.get("tree_size") != body.tree_size or doc.get("root_hash") != body.root_hash.hex():
            report.add(number, where, "its unsigned fields differ from what its signature covers")
        self.root = body.root_hash
        report.latest = body
        report.checkpoints += 1

    def entry(self, number: int, raw: bytes) -> None:
        report = self.report
        report.entries += 1
        if self.stage != "entries":
            report.add(number, "entry", "before the export's checkpoint")
        cut = raw.find(PATH_END)
        if cut < 0 or not raw[-_TAIL:].startswith(ENTRY_MIDDLE) or not raw.endswith(b'"}'):
            report.add(number, "entry", "not in the subject export's entry layout (reformatted?)")
            return
        path = _path(raw[len(PATH_PREFIX) : cut])
        canonical = raw[cut + len(PATH_END) : -_TAIL]
        stated = raw[-_TAIL + len(ENTRY_MIDDLE) : -2]
        try:
            entry = json.loads(canonical)
            seq = entry["seq"] if isinstance(entry, dict) else None
        except (ValueError, KeyError):
            entry, seq = None, None
        if not isinstance(seq, int) or isinstance(seq, bool):
            report.add(number, "entry", "not a readable log entry")
            return
        where = f"entry seq {seq}"
        leaf = hashlib.sha256(b"\x00" + canonical).digest()
        if leaf.hex().encode() != stated:
            report.add(number, where, "its content does not match its leaf hash: it was altered")
            return
        if entry.get("tenant") != report.tenant:
            report.add(number, where, f"belongs to another tenant's log ({entry.get('tenant')})")
        if not _about(entry, report.subject or ""):
            report.add(number, where, f"is not about subject {report.subject}: it was inserted")
        if seq <= self.last_seq:
            report.add(number, where, f"out of order or repeated after seq {self.last_seq}")
        if not report.start <= seq < report.end:
            report.add(number, where, f"outside the export's range {report.start}..{report.end - 1}")
        self.last_seq = max(self.last_seq, seq)
        if path is None:
            report.add(number, where, "its audit path is not a list of hashes")
        elif self.root is not None and not verify_inclusion(seq, report.end, leaf, path, self.root):
            report.add(
                number, where,
                f"is not in the log signed at size {report.end}: it was altered, forged or moved",
            )

    def trailer(self, number: int, doc: dict) -> None:
        self.stage = "done"
        if (doc.get("entries"), doc.get("checkpoints")) != (self.report.entries, self.report.checkpoints):
            self.report.add(number, "trailer", "its counts differ from the lines: lines were added or removed")

    def finish(self, number: int) -> Report:
        """The report, after the last line."""
        if self.stage != "done":
            self.report.add(number, "end", "the export is cut off: no trailer")
        if self.root is None:
            self.report.add(number, "end", "no valid signed checkpoint: nothing is proven")
        if self.report.ok:
            self.report.covered = self.report.end
        return self.report


def verify_subject_export(
    lines: Iterable[bytes], key: VerifierKey, *, progress: Callable[[int], None] | None = None
) -> Report:
    """Verifies a subject export given as its lines."""
    verifier = SubjectVerifier(key)
    number = 0
    for number, raw in enumerate(lines, 1):
        verifier.line(number, raw.rstrip(b"\r\n"))
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(verifier.report.entries)
    return verifier.finish(number)

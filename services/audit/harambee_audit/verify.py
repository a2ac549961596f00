"""The offline verifier: checks an export against a pinned public key and says exactly what failed.

It recomputes every leaf hash from the exported bytes, follows the hash chain (each entry names the
leaf hash of the one before it), recomputes the Merkle root at every checkpoint and compares it with
the signed root, and checks each checkpoint's signature and the consistency proofs between them.

Two passes share the work: scanning lines (hashing entries, following the chain) runs over chunks
of the file in worker processes; folding the leaves into the tree and checking checkpoints runs in
order in this process. Both hold only one chunk at a time, so memory does not grow with the file.

Where the chunks are cut must not change what is found: the fold reports in line order, keeps its
state (the chain, a run of entries after the closing checkpoint) across chunks, and a chunk scanned
before the chain's state at its start was known is scanned again with it when its first entry does
not continue that chain (which happens only in a tampered export).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harambee_audit.export import ENTRY_MIDDLE, ENTRY_PREFIX, FORMAT
from harambee_audit.merkle import HASH_SIZE, Frontier, verify_consistency
from harambee_audit.signing import SIGNATURE_PREFIX, CheckpointBody, VerifierKey

MAX_FINDINGS = 100
CHUNK_BYTES = 16 << 20
CHUNK_LINES = 20_000
_HEX = 2 * HASH_SIZE
_ENTRY_END = b'"}'
_TAIL = len(ENTRY_MIDDLE) + _HEX + len(_ENTRY_END)  # the bytes after an entry line's canonical entry


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold, and where."""

    line: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.where}: {self.message}"


@dataclass
class Report:
    """What the verifier established about an export."""

    tenant: str | None = None
    subject: str | None = None  # set for a subject export: its entries are proven one by one
    start: int = 0
    end: int = 0
    entries: int = 0
    checkpoints: int = 0
    covered: int = 0  # entries [start, covered) are proven by signed checkpoints
    latest: CheckpointBody | None = None
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        return not self.findings and not self.more_findings

    def add(self, line: int, where: str, message: str) -> None:
        """Records a finding (the first MAX_FINDINGS in full, the rest counted)."""
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(line, where, message))
        else:
            self.more_findings += 1


@dataclass(frozen=True)
class Chain:
    """Where the hash chain stands before a line: its last entry, and what the next entry must contain."""

    previous: bytes | None  # the canonical bytes of the last entry in the chain (None before the first)
    marker: bytes  # `"prev":"<that entry's leaf hash>"`, or `"prev":null` at the log's start

    @classmethod
    def after(cls, previous: bytes | None, leaf: bytes | None) -> Chain:
        """The chain after an entry whose stated leaf hash (hex) is `leaf`; None: the log's start."""
        return cls(previous, b'"prev":"' + leaf + b'"' if leaf else b'"prev":null')


@dataclass
class Chunk:
    """What scanning a run of lines found; line numbers and entry counts are relative to the run.

    Every line is either an entry (a leaf) or one of `others`, so the lines between two others are leaves.
    """

    lines: int = 0
    leaves: list[bytes] = field(default_factory=list)
    others: list[tuple[int, int, bytes]] = field(default_factory=list)  # (line, entries before, line)
    findings: list[tuple[int, str, str]] = field(default_factory=list)  # in line order
    linked: bool = False  # scanned from a known chain; else its first entry is assumed to continue it
    first: tuple[int, bytes] | None = None  # the first entry's line and canonical bytes
    chain: Chain | None = None  # the chain after its last entry that took its place in it


def _seq(canonical: bytes) -> int | None:
    try:
        seq = json.loads(canonical).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def diagnose(previous: bytes | None, canonical: bytes) -> tuple[str, str, bool]:
    """Why an entry does not continue the chain: (where, message, whether it takes its place in it)."""
    seq, before = _seq(canonical), _seq(previous) if previous is not None else None
    where = f"entry seq {seq}" if seq is not None else "entry"
    if seq is None:
        return where, "not a readable log entry", False
    if before is None:
        return where, "does not follow the export's start (its prev hash differs)", True
    if seq > before + 1:
        missing = f"seq {before + 1}" if seq == before + 2 else f"seqs {before + 1}..{seq - 1}"
        return where, f"entries are missing before it ({missing})", True
    if seq <= before:
        message = f"out of order or repeated where seq {before + 1} belongs: entries were reordered or inserted"
        return where, message, False
    return where, (
        "does not follow the entry before it (its prev hash differs): "
        "an entry was altered, inserted or removed just before it"
    ), True


def _is_entry_line(line: bytes) -> bool:
    return line.startswith(ENTRY_PREFIX) and line[-_TAIL:].startswith(ENTRY_MIDDLE) and line.endswith(_ENTRY_END)


def scan(lines: Iterable[bytes], chain: Chain | None = None) -> Chunk:
    """Hashes each entry line, checks its stated leaf hash and its link to the entry before it.

    Without `chain` (a worker does not know how the chunks before its own end), the first entry's link
    is left to the fold (`Chunk.linked` is false) and the entries after it are checked as if it held.
    """
    chunk = Chunk(linked=chain is not None)
    sha256, hexlify = hashlib.sha256, binascii.hexlify
    leaves = chunk.leaves
    append = leaves.append
    tail, middle_end = -_TAIL, -_TAIL + len(ENTRY_MIDDLE)
    prefix_end = len(ENTRY_PREFIX)
    previous: bytes | None = chain.previous if chain else None  # the canonical bytes of the last entry in the chain
    # What the next entry must contain: "prev":"<last leaf hash>". Every entry contains b"" (no chain known).
    marker: bytes = chain.marker if chain else b""
    previous_leaf: bytes | None = None  # its stated leaf hash, hex
    first: tuple[int, bytes] | None = None
    line_no = 0
    for line_no, line in enumerate(lines, 1):
        # The common case first: an entry line whose stated leaf hash matches its bytes.
        canonical = line[prefix_end:tail]
        leaf = sha256(b"\x00" + canonical).digest()
        stated = line[middle_end:-2]
        if hexlify(leaf) != stated or not line.startswith(ENTRY_PREFIX):
            if not _is_entry_line(line):
                chunk.others.append((line_no, len(leaves), line))
                continue
            seq = _seq(canonical)
            chunk.findings.append(
                (line_no, f"entry seq {seq}", "its content does not match its leaf hash: it was altered")
            )
        append(leaf)
        if first is None:
            first = (line_no, canonical)
        if marker not in canonical:
            where, message, in_chain = diagnose(previous, canonical)
            chunk.findings.append((line_no, where, message))
            if not in_chain:
                continue
        previous, previous_leaf, marker = canonical, stated, b'"prev":"' + stated + b'"'
    chunk.lines, chunk.first = line_no, first
    if previous_leaf is not None:
        chunk.chain = Chain.after(previous, previous_leaf)
    return chunk


def scan_range(path: str, start: int, end: int, chain: Chain | None = None) -> Chunk:
    """Scans the lines in bytes [start, end) of a file (both at line boundaries).

    Lines end at `\n` only (a stray `\r` inside one does not split it), as when a file is read line by line.
    """
    with open(path, "rb") as file:
        file.seek(start)
        data = file.read(end - start)
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    if b"\r" in data:  # as verify_export strips each line's end
        lines = [line.rstrip(b"\r") for line in lines]
    return scan(lines, chain)


def _boundaries(path: Path, start: int) -> list[tuple[int, int]]:
    size = path.stat().st_size
    cuts = [start]
    with path.open("rb") as file:
        while cuts[-1] + CHUNK_BYTES < size:
            file.seek(cuts[-1] + CHUNK_BYTES)
            file.readline()
            cuts.append(file.tell())
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _batches(lines: Iterator[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for line in lines:
        batch.append(line.rstrip(b"\r\n"))
        if len(batch) >= CHUNK_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


class _Verifier:
    """Folds scanned chunks, in order, into the tree and checks every checkpoint against it."""

    def __init__(self, key: VerifierKey, *, allow_unsigned_tail: bool) -> None:
        self.key = key
        self.allow_unsigned_tail = allow_unsigned_tail
        self.report = Report()
        self.origin: str | None = None
        self.frontier = Frontier()
        self.line_base = 1  # lines before the current chunk (the header is line 1)
        self.chain = Chain.after(None, None)
        self.started = False  # whether the export's first entry has been seen
        self.in_run = False  # whether the last line folded was an entry (a run of them goes on)
        self.computed: dict[int, bytes] = {}  # tree size -> root recomputed from the entries
        self.signed: dict[int, bytes] = {}  # tree size -> root under a valid signature
        self.last_checkpoint: CheckpointBody | None = None
        self.closed = False  # a checkpoint beyond the entries ends them
        self.trailer: dict | None = None

    def header(self, doc: dict) -> None:
        report = self.report
        if doc.get("format") != FORMAT:
            report.add(1, "header", f"unknown export format {doc.get('format')!r}")
        report.tenant, self.origin = doc.get("tenant"), doc.get("origin")
        report.start, report.end = int(doc.get("from", 0)), int(doc.get("to", 0))
        try:
            self.frontier = Frontier(report.start, [bytes.fromhex(h) for h in doc.get("prefix", [])])
        except ValueError:
            report.add(1, "header", "the prefix hashes do not match the range's start")
        self.chain = Chain.after(None, doc["prev_leaf"].encode() if doc.get("prev_leaf") else None)
        self.computed[report.start] = self.frontier.root()
        report.covered = report.start

    def chunk(self, chunk: Chunk, rescan: Callable[[Chain], Chunk] | None = None) -> None:
        """Folds the next chunk; `rescan` scans it again from a known chain (needed when it is not linked)."""
        if not chunk.linked and chunk.first is not None and self.chain.marker not in chunk.first[1]:
            # Its first entry does not continue the chain, so it may not take its place in it either:
            # what the scan checked the entries after it against may be wrong. Rare: a tampered export.
            if rescan is None:
                raise ValueError("an unlinked chunk needs a way to scan it again")
            chunk = rescan(self.chain)
        base = self.line_base
        findings = deque((base + line, where, message) for line, where, message in chunk.findings)
        start, done = 1, 0  # the line after the last other line, and the leaves folded
        for line, entries_before, raw in chunk.others:
            self._entries(base + start, chunk.leaves[done:entries_before], chunk, findings, base + line)
            self._other(base + line, raw)
            start, done = line + 1, entries_before
        self._entries(base + start, chunk.leaves[done:], chunk, findings, base + chunk.lines + 1)
        if chunk.chain is not None:
            self.chain = chunk.chain
        self.line_base += chunk.lines

    def _entries(
        self, line: int, leaves: list[bytes], chunk: Chunk, findings: deque[tuple[int, str, str]], end: int
    ) -> None:
        """Entry lines `line` to `end` (excluded): what is wrong with them, in line order; then into the tree."""
        if not leaves:
            return
        report = self.report
        if not self.started:  # the export's first entry is the chunk's first
            self.started = True
            assert chunk.first is not None
            if (seq := _seq(chunk.first[1])) != report.start:
                report.add(line, f"entry seq {seq}", f"the export should start at seq {report.start}")
        if self.closed and not self.in_run:
            report.add(line, "entry", "after the checkpoint that closes the export")
        self.in_run = True
        while findings and findings[0][0] < end:
            report.add(*findings.popleft())
        self._fold(leaves)

    def _fold(self, leaves: list[bytes]) -> None:
        sha256 = hashlib.sha256
        hashes, size = self.frontier.hashes, self.frontier.size
        for h in leaves:
            s = size
            while s & 1:
                h = sha256(b"\x01" + hashes.pop() + h).digest()
                s >>= 1
            hashes.append(h)
            size += 1
        self.frontier.size = size
        self.report.entries = size - self.report.start

    def _other(self, line: int, raw: bytes) -> None:
        self.in_run = False
        try:
            doc = json.loads(raw)
        except ValueError:
            self.report.add(line, "line", "not JSON")
            return
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if self.trailer is not None:
            self.report.add(line, "line", "after the trailer")
        elif kind == "checkpoint":
            self.checkpoint(line, doc)
        elif kind == "trailer":
            self.trailer = doc
        elif kind == "entry":
            self.report.add(line, "entry", "not in the export's entry layout (reformatted?)")
        else:
            self.report.add(line, "line", f"unexpected line kind {kind!r}")

    def checkpoint(self, line: int, doc: dict) -> None:
        report = self.report
        where = f"checkpoint of size {doc.get('tree_size')}"
        note = str(doc.get("note", ""))
        body_text = self.key.verify_note(note)
        if body_text is None:
            report.add(line, where, signature_problem(self.key, note))
            return
        try:
            body = CheckpointBody.parse(body_text)
        except ValueError as exc:
            report.add(line, where, f"the signed note is not a checkpoint: {exc}")
            return
        where, tree_size, root = f"checkpoint of size {body.tree_size}", body.tree_size, body.root_hash
        if body.origin != self.origin:
            report.add(line, where, f"signed for another log ({body.origin})")
            return
        if doc.get("tree_size") != tree_size or doc.get("root_hash") != root.hex():
            report.add(line, where, "its unsigned fields differ from what its signature covers")
        previous = self.last_checkpoint
        if previous is not None and tree_size <= previous.tree_size:
            report.add(line, where, "out of order: not larger than the checkpoint before it")
        if previous is not None and body.time < previous.time:
            report.add(line, where, "signed earlier than the checkpoint before it")
        size = self.frontier.size
        self.computed.setdefault(size, self.frontier.root())
        proofs = {int(p.get("from", -1)): _hashes(p.get("hashes", [])) for p in doc.get("proofs", [])}
        for first, hashes in proofs.items():
            old_root = self.computed.get(first, self.signed.get(first))
            if old_root is None:
                report.add(line, where, f"has a proof from size {first}, which the export does not hold")
            elif not verify_consistency(first, tree_size, old_root, root, hashes):
                report.add(line, where, f"not consistent with the log at size {first}")
        if previous is not None and previous.tree_size not in proofs:
            report.add(line, where, f"no consistency proof from the previous one ({previous.tree_size})")
        if tree_size == size:
            if self.computed[size] != root:
                report.add(line, where, "the entries before it do not produce its signed root hash")
            else:
                report.covered = max(report.covered, size)
        elif tree_size > size:
            if size not in proofs:
                report.add(line, where, "beyond the exported entries, with no proof from them")
            elif verify_consistency(size, tree_size, self.computed[size], root, proofs[size]):
                report.covered = max(report.covered, size)
            self.closed = True
        elif size > report.start:
            report.add(
                line, where, f"comes after entry seq {size - 1}, not seq {tree_size - 1}: "
                "entries were inserted before it, or it was moved",
            )
        self.signed[tree_size] = root
        self.last_checkpoint = report.latest = body
        report.checkpoints += 1

    def finish(self) -> Report:
        report, line = self.report, self.line_base
        counts = (report.entries, report.checkpoints)
        if self.trailer is None:
            report.add(line, "end", "the export is cut off: no trailer")
        elif (self.trailer.get("entries"), self.trailer.get("checkpoints")) != counts:
            report.add(line, "trailer", "its counts differ from the lines: lines were added or removed")
        if self.frontier.size != report.end:
            report.add(line, "end", f"the export holds entries up to {self.frontier.size}, not {report.end}")
        if report.covered < report.end and not self.allow_unsigned_tail:
            report.add(
                line, "end",
                f"entries seq {report.covered}..{report.end - 1} are not covered by a signed checkpoint",
            )
        return report


def signature_problem(key: VerifierKey, note: str) -> str:
    """Why a checkpoint's note does not verify under the pinned key."""
    signers = []
    for line in note.partition("\n\n")[2].splitlines():
        name, _, blob = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            signers.append((name, base64.b64decode(blob, validate=True)[:4].hex()))
        except ValueError:
            continue
    if signers and all(key_id != key.key_id for _, key_id in signers):
        names = ", ".join(f"{name} {key_id}" for name, key_id in signers)
        return f"not signed by the pinned key {key.key_id} (signed by {names})"
    return "its signature is not valid: the checkpoint was altered or replaced"


def _hashes(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def _start(first: bytes, key: VerifierKey, allow_unsigned_tail: bool) -> _Verifier:
    verifier = _Verifier(key, allow_unsigned_tail=allow_unsigned_tail)
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("kind") != "header":
        verifier.report.add(1, "header", "the export does not start with a header")
        return verifier
    verifier.header(header)
    return verifier


def verify_export(
    lines: Iterable[bytes],
    key: VerifierKey,
    *,
    allow_unsigned_tail: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verifies an export given as its lines, in this process."""
    iterator = iter(lines)
    verifier = _start(next(iterator, b""), key, allow_unsigned_tail)
    if verifier.report.findings:
        return verifier.report
    for batch in _batches(iterator):
        verifier.chunk(scan(batch, verifier.chain))  # in order, so from the chain as it stands
        if progress is not None:
            progress(verifier.report.entries)
    return verifier.finish()


def verify_file(
    path: Path,
    key: VerifierKey,
    *,
    allow_unsigned_tail: bool = False,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Report:
    """Verifies an export file, scanning its chunks in worker processes."""
    with path.open("rb") as file:
        first = file.readline()
        start = file.tell()
    verifier = _start(first, key, allow_unsigned_tail)
    if verifier.report.findings:
        return verifier.report
    ranges = _boundaries(path, start)
    workers = workers or os.cpu_count() or 1

    def fold(chunk: Chunk, a: int, b: int) -> None:
        verifier.chunk(chunk, rescan=lambda chain: scan_range(str(path), a, b, chain))
        if progress is not None:
            progress(verifier.report.entries)

    # One process scans as the workers do (not from the chain it knows), so that both take the same path.
    if workers == 1 or len(ranges) == 1:
        for a, b in ranges:
            fold(scan_range(str(path), a, b), a, b)
        return verifier.finish()
    ahead = 2 * workers  # chunks scanned ahead of the fold: this bounds the memory held
    with ProcessPoolExecutor(max_workers=workers) as pool:
        queue: deque[tuple[Future[Chunk], int, int]] = deque()
        for a, b in ranges:
            queue.append((pool.submit(scan_range, str(path), a, b), a, b))
            if len(queue) > ahead:
                future, start, end = queue.popleft()
                fold(future.result(), start, end)
        while queue:
            future, start, end = queue.popleft()
            fold(future.result(), start, end)
    return verifier.finish()

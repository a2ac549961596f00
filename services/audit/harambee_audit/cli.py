"""`harambee-audit`: the compliance officer's offline tools (verify an export, make a signing key)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from harambee_audit.signing import CheckpointSigner, VerifierKey
from harambee_audit.verify import Report, verify_file
from harambee_audit.verify_subject import is_subject_export, verify_subject_export

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Runs a subcommand; returns the exit status."""
    parser = argparse.ArgumentParser(prog="harambee-audit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an audit export against a pinned public key")
    verify.add_argument("export", type=Path, help="the JSONL export file")
    verify.add_argument(
        "--public-key", required=True,
        help="file with the Ed25519 public key (PEM or signed-note verifier key), or the note key itself",
    )
    verify.add_argument(
        "--allow-unsigned-tail", action="store_true",
        help="accept entries after the last signed checkpoint (they are reported, not failed)",
    )
    verify.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    keygen = commands.add_parser("keygen", help="write a new Ed25519 checkpoint-signing key (PKCS#8 PEM)")
    keygen.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "keygen":
        return _keygen(args.path)
    return _verify(args)


def _load_key(value: str) -> VerifierKey:
    path = Path(value)
    return VerifierKey.load(path.read_text() if path.is_file() else value)


def _verify(args: argparse.Namespace) -> int:
    try:
        key = _load_key(args.public_key)
    except (OSError, ValueError) as exc:
        print(f"harambee-audit: cannot read the public key: {exc}", file=sys.stderr)
        return EXIT_USAGE
    show_progress = args.progress or sys.stderr.isatty()
    started = time.monotonic()
    last = [started]

    def progress(entries: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5:
            last[0] = now
            rate = entries / max(now - started, 1e-9)
            print(f"\rverified {entries:,} entries ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)

    try:
        with args.export.open("rb") as file:
            subject_export = is_subject_export(file.readline())
            if subject_export:
                file.seek(0)
                report = verify_subject_export(file, key, progress=progress if show_progress else None)
        if not subject_export:
            report = verify_file(
                args.export, key, allow_unsigned_tail=args.allow_unsigned_tail,
                progress=progress if show_progress else None,
            )
    except OSError as exc:
        print(f"harambee-audit: cannot read the export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if show_progress:
        print(file=sys.stderr)
    _print(report, key, time.monotonic() - started)
    return EXIT_OK if report.ok else EXIT_FAILED


def _print(report: Report, key: VerifierKey, seconds: float) -> None:
    if report.subject is not None:
        _print_subject(report, key, seconds)
        return
    print(
        f"export of tenant {report.tenant}: entries {report.start}..{report.end - 1} "
        f"({report.entries:,} entries, {report.checkpoints:,} checkpoints) in {seconds:.2f}s"
    )
    if report.ok:
        latest = report.latest
        signed = f", latest signed at {latest.time} for size {latest.tree_size}" if latest else ""
        print(f"VERIFIED: every entry up to seq {report.covered - 1} is in a checkpoint signed by "
              f"{key.name} {key.key_id}{signed}; successive checkpoints are consistent.")
        if report.covered < report.end:
            tail = f"{report.covered}..{report.end - 1}"
            print(f"NOTE: entries {tail} are not yet covered by a signed checkpoint.")
        return
    _print_findings(report)


def _print_subject(report: Report, key: VerifierKey, seconds: float) -> None:
    print(
        f"subject export of tenant {report.tenant} for subject {report.subject}: "
        f"{report.entries:,} entries below seq {report.end} in {seconds:.2f}s"
    )
    if report.ok:
        signed = f" signed at {report.latest.time}" if report.latest else ""
        print(f"VERIFIED: each of the {report.entries:,} entries is about this subject and included in the "
              f"checkpoint of size {report.end}{signed} by {key.name} {key.key_id}.")
        print("NOTE: this proves each exported entry is in the log; it does not prove that the log holds no "
              "other entry about this subject (a range export does that for a range).")
        return
    _print_findings(report)


def _print_findings(report: Report) -> None:
    print(f"FAILED: {len(report.findings) + report.more_findings} problem(s)")
    for finding in report.findings:
        print(f"  {finding}")
    if report.more_findings:
        print(f"  ... and {report.more_findings} more")


def _keygen(path: Path) -> int:
    if path.exists():
        print(f"harambee-audit: {path} exists; not overwriting a key", file=sys.stderr)
        return EXIT_USAGE
    signer = CheckpointSigner.generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(signer.private_pem())
    print(signer.verifier.note_key)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

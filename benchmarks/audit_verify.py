"""The offline verifier's throughput on a 1,000,000-entry export (target: >= 500,000 entries/s).

    python benchmarks/audit_verify.py [--entries 1000000] [--every 1000] [--export PATH] [--rounds 3]

Writes a synthetic export with the service's own entry, tree and signing code (or reuses PATH when it
exists, e.g. the file audit_export.py streamed from a real service), then times `verify_file` with
one and with all cores. The figures are medians: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_synthetic import ensure_export

from harambee_audit.signing import CheckpointSigner, VerifierKey
from harambee_audit.verify import verify_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=1000, help="entries per checkpoint")
    parser.add_argument("--export", type=Path, help="the export to verify (written first if it does not exist)")
    parser.add_argument("--public-key", help="the export's verifier key (PEM file or note key); default EXPORT.pub")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.export and args.export.exists():
        path = args.export
        public_key = args.public_key or str(path.with_suffix(".pub"))  # where this script leaves it
        key = VerifierKey.load(Path(public_key).read_text() if Path(public_key).is_file() else public_key)
    else:
        signer = CheckpointSigner.generate()
        key = signer.verifier
        path = args.export or Path(tempfile.mkdtemp(prefix="audit-bench-")) / "export.jsonl"
        started = time.perf_counter()
        ensure_export(path, count=args.entries, every=args.every, signer=signer)
        path.with_suffix(".pub").write_text(key.pem)
        print(f"wrote {args.entries:,} entries ({path.stat().st_size / 1e6:,.0f} MB) "
              f"in {time.perf_counter() - started:.1f}s: {path}")
    for workers in (1, os.cpu_count() or 1):
        rates = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = verify_file(path, key, workers=workers)
            seconds = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(f"the export did not verify: {report.findings[:3]}")
            rates.append(report.entries / seconds)
        print(f"verify_file, {workers} process(es): {report.entries:,} entries, {report.checkpoints:,} checkpoints; "
              f"median {statistics.median(rates):,.0f} entries/s (best {max(rates):,.0f}, worst {min(rates):,.0f})")


if __name__ == "__main__":
    main()

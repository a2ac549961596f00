"""Streaming export of 1,000,000 audit entries from a running audit service, with its peak memory.

    python benchmarks/audit_export.py [--entries 1000000] [--every 1000] [--out PATH]

Loads a synthetic log (built with the service's own code) into a fresh audit database, starts
`python -m harambee_audit serve`, streams `GET /v1/tenants/{tenant}/export` for the first 10% and then
for all entries, sampling the server's resident memory, and verifies the file offline. Flat memory
means the peak RSS of the full export is about that of the small one. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_synthetic import TENANT, seed

from harambee_audit.signing import CheckpointSigner
from harambee_audit.verify import verify_file
from harambee_common.components import AUDIT
from harambee_common.migrations import upgrade
from harambee_stack.broker import Broker
from harambee_stack.ports import free_port
from harambee_stack.postgres import Postgres
from tests.support.event_keys import key_files
from tests.support.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakSampler:
    """Samples a process's RSS every 50 ms in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> PeakSampler:
        self.peak = rss_kib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stream_export(base: str, headers: dict[str, str], out: Path, *, end: int) -> tuple[int, float]:
    """Streams one export to a file; returns (bytes, seconds)."""
    started, written = time.perf_counter(), 0
    with (
        httpx.stream("GET", f"{base}/v1/tenants/{TENANT}/export", params={"to": end}, headers=headers,
                     timeout=600) as response,
        out.open("wb") as file,
    ):
        response.raise_for_status()
        for block in response.iter_raw(1 << 16):
            file.write(block)
            written += len(block)
    return written, time.perf_counter() - started


def main() -> None:
    # A SIGTERM still runs the cleanup below (stop the server, drop the database, stop PostgreSQL).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=1000, help="entries per checkpoint")
    parser.add_argument("--out", type=Path, help="where to keep the full export")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="audit-export-bench-"))
    data_dir = ROOT / ".run" / f"bench-audit-{uuid.uuid4().hex[:8]}"
    postgres = Postgres.start(data_dir=data_dir)
    broker = Broker.start_default(log_path=state / "broker.log")
    database_name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    server: subprocess.Popen[bytes] | None = None
    try:
        database = postgres.provision("audit", database=database_name)
        upgrade(package="harambee_audit", url=database.owner)
        signer = CheckpointSigner.generate()
        key_file = state / "signing-key.pem"
        key_file.write_bytes(signer.private_pem())
        started = time.perf_counter()
        seed(database.owner, count=args.entries, every=args.every, signer=signer)
        print(f"loaded {args.entries:,} entries in {time.perf_counter() - started:.1f}s")

        with TokenIssuer() as issuer:
            port = free_port()
            env = {
                **os.environ, **database.env(), **issuer.env(), "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                "AUDIT_SIGNING_KEY_FILE": str(key_file), "PORT": str(port), "LOG_LEVEL": "WARNING",
                **key_files(AUDIT, state / "event-keys"),
            }
            server = subprocess.Popen([sys.executable, "-m", "harambee_audit", "serve"], env=env,
                                      stdout=(state / "audit.log").open("wb"), stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            headers = issuer.headers(tenants={TENANT: ["compliance_officer"]}, lifetime=3600)
            print(f"server RSS at rest: {rss_kib(server.pid) / 1024:,.1f} MiB")
            full = args.out or state / "export.jsonl"
            for end, out in ((args.entries // 10, state / "small.jsonl"), (args.entries, full)):
                with PeakSampler(server.pid) as sampler:
                    size, seconds = stream_export(base, headers, out, end=end)
                print(f"export of {end:,} entries: {size / 1e6:,.0f} MB in {seconds:.1f}s "
                      f"({end / seconds:,.0f} entries/s, {size / 1e6 / seconds:,.0f} MB/s); "
                      f"server peak RSS {sampler.peak / 1024:,.1f} MiB")
            print(f"server VmHWM (lifetime peak RSS): {rss_kib(server.pid, 'VmHWM') / 1024:,.1f} MiB")
        started = time.perf_counter()
        report = verify_file(full, signer.verifier)
        seconds = time.perf_counter() - started
        verdict = "verified" if report.ok else f"FAILED {report.findings[:3]}"
        print(f"offline verification of the streamed export: {verdict}, {report.entries:,} entries, "
              f"{report.checkpoints:,} checkpoints in {seconds:.1f}s ({report.entries / seconds:,.0f} entries/s)")
        if args.out:
            (args.out.with_suffix(".pub")).write_text(signer.verifier.pem)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        postgres.drop(database_name)
        postgres.stop()
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()

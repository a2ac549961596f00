"""Token requests per second, and the gateway's CPU per token, with client secrets verified as argon2id
(the gateway before) and as SHA-256 digests (now), in the same run.

    python benchmarks/token_endpoint.py [--baseline c619e5d] [--rounds 3] [--concurrency 4]

Starts PostgreSQL and two gateway processes on one migrated, seeded registry, and nothing else (no
broker: their outbox relays are off). `before` runs the gateway package as of --baseline, extracted
with `git archive` and put first on PYTHONPATH (the shared library is this tree's): it stores and
verifies every client secret with argon2id at the library's defaults. `after` runs this tree's. Each
is asked for client-credentials tokens by its own demo client (`before`'s with its secret hashed as
the baseline hashes it), from --concurrency callers each on its own connection, closed loop. Rounds
alternate the two; the figures are each round's, then the medians and their ratio. CPU is the
gateway process's own (user + system, from /proc). Then, on `after`, the time a wrong secret for a
known client and an unknown client id take (the decoy path): they should be alike. Loopback only.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the event keys a component's process needs
_TICK = os.sysconf("SC_CLK_TCK")
CLIENT_BEFORE, CLIENT_AFTER = "mombasa-youth-cso-system", "mombasa-health-agency-system"


def serve() -> None:
    """The gateway as `python -m harambee_gateway serve` runs it, with its outbox relay off (no broker here)."""
    import uvicorn

    from harambee_gateway.app import create_app
    from harambee_gateway.config import GatewaySettings

    settings = dataclasses.replace(GatewaySettings.from_env(), run_relay=False)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=int(os.environ["PORT"]), loop="uvloop",
                access_log=False, log_level="warning")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclasses.dataclass
class Gateway:
    name: str
    url: str
    process: subprocess.Popen
    client_id: str
    secret: str


@contextmanager
def gateway(name: str, env: dict[str, str], python_path: str, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """One gateway process on a free port, its package from python_path; yields its URL once it answers."""
    from harambee_stack.ports import free_port

    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            env={**os.environ, **env, "PORT": str(port), "PYTHONPATH": python_path},
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the {name} gateway exited: see {log}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the {name} gateway did not start in 120 s: see {log}")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def round_of(target: Gateway, requests: int, concurrency: int) -> tuple[float, float]:
    """requests token requests from concurrency callers: (tokens per second, gateway CPU ms per token)."""
    share = [requests // concurrency + (n < requests % concurrency) for n in range(concurrency)]

    def caller(count: int) -> None:
        with httpx.Client(base_url=target.url, timeout=120) as http:
            for _ in range(count):
                answer = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=(target.client_id, target.secret))
                if answer.status_code != 200:
                    raise SystemExit(f"{target.name}: {answer.status_code} {answer.text[:200]}")

    cpu, started = cpu_seconds(target.process.pid), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(caller, share))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(target.process.pid) - cpu
    return requests / elapsed, cpu * 1000 / requests


def refusal_ms(target: Gateway, probes: dict[str, tuple[str, str]], count: int) -> dict[str, float]:
    """The median time (ms) of refused token requests of each kind (a client id and a secret), taken in turn.

    Sequential, each on a connection of its own, as a prober would send them: on a kept-alive connection
    a request waits for what the gateway does after answering the one before (it records a refusal then).
    """
    times: dict[str, list[float]] = {kind: [] for kind in probes}
    for _ in range(count):
        for kind, (client_id, secret) in probes.items():
            with httpx.Client(base_url=target.url, timeout=120) as http:
                started = time.perf_counter()
                answer = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=(client_id, secret))
                times[kind].append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 401, answer.text
    return {kind: statistics.median(taken) for kind, taken in times.items()}


def measure(before: Gateway, after: Gateway, args: argparse.Namespace) -> None:
    print(f"load average at the start: {load_average()} ({os.cpu_count()} CPUs)")
    for target, count in ((before, 4), (after, 40)):  # a first round each, not counted: pools and caches fill
        round_of(target, count, args.concurrency)
    figures: dict[str, list[tuple[float, float]]] = {before.name: [], after.name: []}
    for n in range(args.rounds):
        for target, count in ((before, args.before_requests), (after, args.after_requests)):
            rate, cpu = round_of(target, count, args.concurrency)
            figures[target.name].append((rate, cpu))
            print(f"round {n + 1}  {target.name:6}  {count:5} tokens  {rate:8.1f} tokens/s  "
                  f"{cpu:7.2f} gateway CPU ms/token   (load {load_average()})")
    medians = {name: (statistics.median(r for r, _ in rows), statistics.median(c for _, c in rows))
               for name, rows in figures.items()}
    (rate_b, cpu_b), (rate_a, cpu_a) = medians[before.name], medians[after.name]
    print(f"median  before {rate_b:.1f} tokens/s, {cpu_b:.2f} CPU ms/token;  after {rate_a:.1f} tokens/s, "
          f"{cpu_a:.2f} CPU ms/token;  after/before: {rate_a / rate_b:.1f}x the tokens/s, "
          f"{cpu_b / cpu_a:.1f}x less CPU per token")
    for target in (before, after):
        refusals = refusal_ms(target, {"wrong secret for a known client": (target.client_id, "wrong-" + target.secret),
                                       "unknown client id": (f"hc_{uuid.uuid4().hex}", target.secret)},
                              args.refusals)
        print(f"{target.name}, median of {args.refusals} refusals of each kind, in turn: "
              + ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in refusals.items()))
    print(f"load average at the end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default="c619e5d", help="the commit whose gateway package is `before`")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--before-requests", type=int, default=40, help="tokens per round from `before`")
    parser.add_argument("--after-requests", type=int, default=400, help="tokens per round from `after`")
    parser.add_argument("--refusals", type=int, default=30, help="refusals timed on `after`, of each kind")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if not (1 <= args.rounds <= 20 and 1 <= args.concurrency <= 32 and 1 <= args.before_requests <= 2000
            and 1 <= args.after_requests <= 20000 and 1 <= args.refusals <= 1000):
        raise SystemExit("rounds 1-20, concurrency 1-32, before-requests 1-2000, after-requests 1-20000, "
                         "refusals 1-1000")
    # A SIGTERM still runs the cleanup below (stop the gateways, drop the database, stop PostgreSQL).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from argon2 import PasswordHasher

    from harambee_common.components import GATEWAY
    from harambee_common.migrations import upgrade
    from harambee_stack.postgres import Postgres
    from tests.support.event_keys import key_files

    state = Path(tempfile.mkdtemp(prefix="token-bench-"))
    baseline = state / "baseline"
    baseline.mkdir()
    archive = subprocess.run(["git", "archive", args.baseline, "gateway/harambee_gateway"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (state / "signing-key.pem").write_bytes(key)
    kek = state / "key-encryption-key"
    kek.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    kek.chmod(0o600)
    data_dir = ROOT / ".run" / f"bench-token-{uuid.uuid4().hex[:8]}"
    postgres = Postgres.start(data_dir=data_dir)
    name = f"bench_gateway_{uuid.uuid4().hex[:8]}"
    try:
        database = postgres.provision("gateway", database=name)
        upgrade(package="harambee_gateway", url=database.owner)
        env = {**database.env(), "GATEWAY_SIGNING_KEY_FILE": str(state / "signing-key.pem"),
               "GATEWAY_KEY_ENCRYPTION_KEY_FILE": str(kek), "HARAMBEE_ISSUER": "http://127.0.0.1:8000",
               "OAUTH_RATE_LIMIT_PER_SECOND": "0", **key_files(GATEWAY, state / "event-keys")}
        demo = seed(env, state / "demo.json")
        before_secret, after_secret = demo[CLIENT_BEFORE]["client_secret"], demo[CLIENT_AFTER]["client_secret"]
        # As the baseline stores it (credentials.hash_secret: argon2id at the library's defaults).
        owner = sa.create_engine(database.owner)
        with owner.begin() as conn:
            conn.execute(sa.text("UPDATE clients SET secret_hash = :h WHERE client_id = :c"),
                         {"h": PasswordHasher().hash(before_secret), "c": demo[CLIENT_BEFORE]["client_id"]})
        owner.dispose()
        ours = str(ROOT / "gateway")
        with gateway("before", env, str(baseline / "gateway"), state / "before.log") as (url_b, process_b), \
                gateway("after", env, ours, state / "after.log") as (url_a, process_a):
            measure(Gateway("before", url_b, process_b, demo[CLIENT_BEFORE]["client_id"], before_secret),
                    Gateway("after", url_a, process_a, demo[CLIENT_AFTER]["client_id"], after_secret), args)
    finally:
        postgres.drop(name)
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"    the gateways' logs: {state}")


def seed(env: dict[str, str], out: Path) -> dict[str, dict[str, str]]:
    """The demo registry, seeded by this tree's gateway; its clients by name."""
    subprocess.run([sys.executable, "-m", "harambee_gateway", "seed-demo", "--out", str(out),
                    "--gateway-url", env["HARAMBEE_ISSUER"]],
                   env={**os.environ, **env}, check=True, cwd=ROOT, capture_output=True)
    return {client["name"]: client for client in json.loads(out.read_text())["clients"]}


if __name__ == "__main__":
    main()

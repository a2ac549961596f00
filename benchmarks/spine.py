"""The spine's figures, measured in one run against the embedded stack (loopback only).

    python benchmarks/spine.py [--seconds 5] [--rounds 3] [--only ab|cd|e ...]

(a) a trivial authenticated GET through the gateway vs (b) the same GET straight to the service;
(c) referral POSTs through the gateway vs (d) a bare one-row INSERT endpoint on the same PostgreSQL, and
(d') that INSERT as a coroutine on SQLAlchemy's asyncio engine vs (d) (what no thread hand-off saves);
(e) referral -> audit entry committed, at a steady rate, with where the time went: the request, the relay
(waking and reading the outbox), the broker's acknowledgement, and the audit consumer; and each process's
CPU while the stack idles, before and after. Ratios are of medians over paired rounds,
run back to back, because this machine is shared and noisy. Targets: (a)/(b) >= 0.6, (c)/(d) >= 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import _group, accounted, line
from load import Result, run

from harambee_stack.ports import free_port
from harambee_stack.stack import Stack, free_ports

TENANT = "ke-mombasa"
TARGETS = {"(a)/(b)": 0.6, "(c)/(d)": 0.5, "(d')/(d)": 1.0}
REFERRAL = {
    "person": {"given_name": "Bench", "family_name": "Mark", "date_of_birth": "2006-01-01"},
    "source_type": "community",
    "concern": "Benchmark referral.",
    "indicators": ["sharing_violent_material"],
}


def _name() -> str:
    # Letters only: intake folds names to letter tokens, so "Bench123" and "Bench456" are one name to it.
    return "".join(random.choices(string.ascii_lowercase, k=random.randint(5, 9))).capitalize()


def new_referral() -> dict:
    """A referral about a different person each time, as most referrals are: one name repeated would
    measure the linking of repeat referrals (and the per-person lock that keeps it safe), not intake."""
    person = {"given_name": _name(), "family_name": _name(),
              "date_of_birth": f"{random.randint(1990, 2012)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"}
    return {**REFERRAL, "person": person}


def token(stack: Stack, name_part: str) -> str:
    creds = next(c for c in stack.credentials["clients"] if name_part in c["name"])
    response = httpx.post(f"{stack.gateway_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(creds["client_id"], creds["client_secret"]), timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def start_bare_insert(stack: Stack, state: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The baseline app on its own database of the same PostgreSQL server."""
    assert stack.postgres is not None
    admin = sa.create_engine(stack.postgres.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS bench_bare WITH (FORCE)"))
        conn.execute(sa.text("CREATE DATABASE bench_bare"))
    admin.dispose()
    url = sa.make_url(stack.postgres.admin_url).set(database="bench_bare")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bare_rows (id uuid PRIMARY KEY, body jsonb NOT NULL, "
                             "created_at timestamptz NOT NULL DEFAULT now())"))
    engine.dispose()
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": url.render_as_string(hide_password=False)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_insert:app", "--app-dir", str(Path(__file__).parent),
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--loop", "uvloop", "--http", "httptools"],
        env=env, stdout=(state / "bare.log").open("wb"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/docs", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the baseline app did not start")


def paired(label_x: str, x, label_y: str, y, *, rounds: int) -> tuple[float, list[Result]]:
    """Runs y then x, rounds times; the ratio of their median throughputs x/y.

    Each run's line is followed by where its CPU went, per request, in every process it kept busy.
    """
    results: list[Result] = []
    xs, ys = [], []
    for _ in range(rounds):
        for run_one, throughputs in ((y, ys), (x, xs)):
            result, spent = accounted(run_one, requests=lambda r: r.requests)
            throughputs.append(result.rps)
            results.append(result)
            print(f"  {result.line()}\n      {line(spent)}", flush=True)
    ratio = statistics.median(xs) / statistics.median(ys)
    print(f"  => {label_x} / {label_y} = {ratio:.2f} (median of {rounds})", flush=True)
    return ratio, results


async def steady_referrals(url: str, headers: dict[str, str], *, rate: float, seconds: float
                           ) -> dict[str, tuple[float, float, int]]:
    """Sends referrals at a fixed rate; returns each referral's id with its send and response times, and
    its number.

    The send time is when the request's last byte was written (aiohttp's trace), not when it was due: a
    request this process was late to send (its own scheduling, on a shared machine) is not counted as the
    service's time. How late the sends were is printed. Each request carries its number in `X-Bench-Seq`.
    """
    import aiohttp

    sent: dict[str, tuple[float, float, int]] = {}
    written: dict[int, float] = {}
    late: list[float] = []
    refused: Counter[str] = Counter()

    async def on_chunk_sent(_session, context, _params) -> None:
        written[context.trace_request_ctx["seq"]] = time.time()

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(on_chunk_sent)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:

        async def one(seq: int, due: float) -> None:
            async with session.post(url, json=new_referral(), headers={**headers, "X-Bench-Seq": str(seq)},
                                    trace_request_ctx={"seq": seq}) as response:
                late.append(written[seq] - due)
                if response.status == 201:
                    sent[(await response.json())["id"]] = (written[seq], time.time(), seq)
                else:
                    refused[f"{response.status} {(await response.text())[:120]}"] += 1

        tasks = []
        began = time.monotonic()
        wall = time.time()
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(i, wall + i / rate)))
        await asyncio.gather(*tasks)
    for answer, count in refused.most_common():
        print(f"  not accepted, {count}x: {answer}")
    if len(late) >= 2:
        q = statistics.quantiles(late, n=100)
        print(f"  the generator's own lateness (due -> last byte written): p50 {q[49] * 1000:.1f} ms, "
              f"p99 {q[98] * 1000:.1f} ms, max {max(late) * 1000:.1f} ms")
    return sent


def audit_latencies(stack: Stack, compliance: str, sent: dict[str, float], *, timeout: float) -> dict[str, float]:
    """Seconds from each referral's POST to its audit entry's commit, by referral id."""
    found: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {compliance}"}
    since = datetime.fromtimestamp(min(sent.values()) - 5).astimezone().isoformat()
    deadline = time.monotonic() + timeout
    while len(found) < len(sent) and time.monotonic() < deadline:
        params = {"type": "referral.received", "since": since, "limit": "500"}
        for _ in range(200):
            page = httpx.get(f"{stack.gateway_url}/audit/v1/tenants/{TENANT}/entries", params=params,
                             headers=headers, timeout=30).json()
            for entry in page["items"]:
                referral = entry["data"].get("referral_id")
                if referral in sent:
                    found[referral] = datetime.fromisoformat(entry["recorded_at"]).timestamp() - sent[referral]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        time.sleep(0.5)
    return found


# Each stage's end, per referral.received event: the event's time (taken in the request, before its
# commit), when the relay's producer made the record (the Kafka timestamp, read back from the topic), when
# the broker had acknowledged it (the outbox's published_at), and when audit appended it.
_OUTBOX = sa.text("SELECT id::text, data->>'referral_id', time, published_at FROM outbox "
                  "WHERE type = 'referral.received' AND data->>'referral_id' = ANY(:ids)")
_ENTRIES = sa.text("SELECT event_id, recorded_at FROM entries WHERE event_id = ANY(:ids)")


def record_times(bootstrap: str, event_ids: set[str], *, timeout: float = 30.0) -> dict[str, float]:
    """The Kafka timestamp (the producer's create time) of each of these events on intake.events."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer("intake.events", bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    times: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(times) < len(event_ids) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    event_id = dict(record.headers).get("ce_id", b"").decode()
                    if event_id in event_ids:
                        times[event_id] = record.timestamp / 1000
    finally:
        consumer.close()
    return times


def stages(stack: Stack, sent: dict[str, tuple[float, float, int]], *, dump: Path | None = None
           ) -> dict[str, list[float]]:
    """Per referral, the milliseconds each stage took, from the POST's send to the audit entry; with `dump`,
    each referral's instants (epoch seconds) are written there as JSON lines, for a closer look at the tail."""
    assert stack.postgres is not None
    base = sa.make_url(stack.postgres.admin_url)
    rows = {}
    engine = sa.create_engine(base.set(database=sa.make_url(stack.database("intake").app).database))
    with engine.connect() as conn:
        for event_id, referral, at, published in conn.execute(_OUTBOX, {"ids": list(sent)}):
            rows[event_id] = (referral, at.timestamp(), published.timestamp() if published else None)
    engine.dispose()
    engine = sa.create_engine(base.set(database=sa.make_url(stack.database("audit").app).database))
    with engine.connect() as conn:
        recorded = {e: r.timestamp() for e, r in conn.execute(_ENTRIES, {"ids": list(rows)})}
    engine.dispose()
    created = record_times(stack.broker.bootstrap, set(rows))
    out: dict[str, list[float]] = {k: [] for k in ("request (send to event time)", "response (event time to 201)",
                                                     "relay wake-up (event time to record)",
                                                     "broker ack (record to published_at)",
                                                     "audit (published_at to entry)", "total")}
    instants = []
    for event_id, (referral, at, published) in rows.items():
        if event_id not in recorded or event_id not in created or published is None:
            continue
        send, answered, seq = sent[referral]
        instants.append({"referral": referral, "seq": seq, "send": send, "event": at, "answered": answered,
                         "record": created[event_id], "published": published, "recorded": recorded[event_id]})
        for name, ms in zip(out, (at - send, answered - at, created[event_id] - at, published - created[event_id],
                                  recorded[event_id] - published, recorded[event_id] - send), strict=True):
            out[name].append(ms * 1000)
    if dump is not None:
        dump.write_text("".join(json.dumps(each) + "\n" for each in sorted(instants, key=lambda i: i["send"])))
    return out


def _ours(state: Path) -> dict[int, str]:
    """This run's processes, by id, with their group: the stack's children (components, broker) and the
    embedded PostgreSQL's (whose postmaster names the run's state directory). Other stacks on this
    shared machine run the same commands, so a group by command line alone would count theirs too."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):  # the process ended while we looked
                continue
    roots = {os.getpid()} | {pid for pid, command in commands.items()
                             if command.startswith(("postgres", "/")) and str(state) in command}
    ours: set[int] = set()
    for pid in commands:
        seen, walk = [], pid
        while walk and walk not in roots and walk not in ours and walk in parents:
            seen.append(walk)
            walk = parents[walk]
        if walk in roots or walk in ours:
            ours.update(seen)
    return {pid: _group(commands[pid]) for pid in ours if pid in commands}


def _cpu_seconds(pids: dict[int, str]) -> Counter[str]:
    seconds: Counter[str] = Counter()
    for pid, group in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[group] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def idle_cpu(state: Path, seconds: float) -> dict[str, float]:
    """CPU milliseconds per second of each of this run's processes while nothing is asked of the stack."""
    pids = _ours(state)
    before = _cpu_seconds(pids)
    time.sleep(seconds)
    after = _cpu_seconds(pids)
    spent = {group: (after[group] - before.get(group, 0.0)) * 1000 / seconds for group in after
             if group not in ("other", "bare app")}
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def latency_run(stack: Stack, state: Path, partner: dict[str, str], compliance: str, *, rate: float,
                seconds: float, dump: Path | None = None) -> None:
    """(e): referral -> audit entry at a steady rate, its stages, and the stack's CPU while idle."""
    print(f"\n(e) referral -> audit entry committed, {rate:.0f} referrals/s for {seconds:.0f} s")
    # Run alone, (e)'s first referrals are the stack's first and find everything cold (the tenant's first key
    # made, database connections opened, statements compiled): a second of referrals is sent first and shown
    # apart, not counted in the steady rate's figures.
    url = f"{stack.gateway_url}/intake/v1/tenants/{TENANT}/referrals"
    answered = sorted(done - at for at, done, _ in asyncio.run(
        steady_referrals(url, partner, rate=rate, seconds=1)).values())
    if answered:
        print(f"  warm-up, {len(answered)} referrals: POST answered in {answered[0] * 1000:.0f}-"
              f"{answered[-1] * 1000:.0f} ms (median {statistics.median(answered) * 1000:.0f})")
    # Let the consumers drain the throughput runs' events, and go back to their idle fetch wait
    # (consumer.ACTIVE_SECONDS), so that idle means idle.
    time.sleep(15)
    idle = idle_cpu(state, 20)
    print("  idle CPU before, ms per s: " + ", ".join(f"{g} {ms:.1f}" for g, ms in idle.items()))
    sent = asyncio.run(steady_referrals(url, partner, rate=rate, seconds=seconds))
    found = audit_latencies(stack, compliance, {r: at for r, (at, *_) in sent.items()}, timeout=120)
    latencies = sorted(found.values())
    if len(latencies) < 2:
        print(f"  audited {len(latencies)}/{len(sent)}: too few to report")
        return
    q = statistics.quantiles(latencies, n=100)
    print(f"  audited {len(latencies)}/{len(sent)}: p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms")
    for name, values in stages(stack, sent, dump=dump).items():
        if len(values) >= 2:
            q = statistics.quantiles(values, n=100)
            print(f"    {name:<38} p50 {q[49]:6.1f} ms  p90 {q[89]:6.1f} ms  p99 {q[98]:6.1f} ms")
    time.sleep(15)
    idle = idle_cpu(state, 20)
    print("  idle CPU after, ms per s: " + ", ".join(f"{g} {ms:.1f}" for g, ms in idle.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds per ratio")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=20.0, help="referrals/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=15.0, help="length of the latency run")
    parser.add_argument("--dump", type=Path, help="(e): write each referral's stage instants here (JSON lines)")
    parser.add_argument("--only", choices=("ab", "cd", "e"), action="append", help="run only this part (repeatable)")
    args = parser.parse_args()

    # This measures throughput, not the per-client rate limiter, which would answer 429 past 100/s.
    os.environ["RATE_LIMIT_PER_SECOND"] = "0"
    with tempfile.TemporaryDirectory(prefix="harambee-bench-") as tmp:
        state = Path(tmp)
        os.chmod(state, 0o755)  # the embedded PostgreSQL runs as its own user and must reach its data
        with Stack(state_dir=state, ports=free_ports(), ephemeral=True) as stack:
            bare, bare_url = start_bare_insert(stack, state)
            try:
                partner = {"Authorization": f"Bearer {token(stack, 'cso')}"}
                compliance = token(stack, "compliance")
                common = {"seconds": args.seconds, "concurrency": args.concurrency}
                me = f"/v1/tenants/{TENANT}/me"
                print(f"cores: {os.cpu_count()}, concurrency {args.concurrency}, {args.seconds}s runs\n")

                ratios: dict[str, float] = {}
                if not args.only or "ab" in args.only:
                    print("(a) GET through the gateway vs (b) GET straight to intake")
                    ratios["(a)/(b)"], _ = paired(
                        "(a)", lambda: run("(a) GET gateway /intake/.../me", "GET",
                                           f"{stack.gateway_url}/intake{me}", headers=partner, **common),
                        "(b)", lambda: run("(b) GET intake /.../me", "GET",
                                           f"{stack.url('intake')}{me}", headers=partner, **common),
                        rounds=args.rounds)

                if not args.only or "cd" in args.only:
                    print("\n(c) referral POST through the gateway vs (d) bare one-row INSERT endpoint")
                    ratios["(c)/(d)"], _ = paired(
                        "(c)", lambda: run("(c) POST gateway /intake/.../referrals", "POST",
                                           f"{stack.gateway_url}/intake/v1/tenants/{TENANT}/referrals",
                                           headers=partner, body=new_referral, expect=201, **common),
                        "(d)", lambda: run("(d) POST bare INSERT /rows", "POST", f"{bare_url}/rows",
                                           body=new_referral, expect=201, **common),
                        rounds=args.rounds)
                    print("\n(d') the bare INSERT as a coroutine on the asyncio engine vs (d) in the thread pool")
                    ratios["(d')/(d)"], _ = paired(
                        "(d')", lambda: run("(d') POST bare INSERT /rows-async", "POST", f"{bare_url}/rows-async",
                                            body=new_referral, expect=201, **common),
                        "(d)", lambda: run("(d) POST bare INSERT /rows", "POST", f"{bare_url}/rows",
                                           body=new_referral, expect=201, **common),
                        rounds=args.rounds)

                if not args.only or "e" in args.only:
                    latency_run(stack, state, partner, compliance, rate=args.rate, seconds=args.latency_seconds,
                                dump=args.dump)

                print("\nsummary")
                for name, ratio in ratios.items():
                    target = TARGETS[name]
                    print(f"  {name} = {ratio:.2f}  target >= {target}  {'met' if ratio >= target else 'MISSED'}")
            finally:
                bare.terminate()
                bare.wait(timeout=10)


if __name__ == "__main__":
    main()

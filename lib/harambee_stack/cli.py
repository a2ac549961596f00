"""`harambee-stack run`: the whole platform on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import httpx

from harambee_common.components import GATEWAY
from harambee_stack.stack import DEFAULT_PORTS, Stack, StackError


def main(argv: list[str] | None = None) -> int:
    """Parses the command line and runs the verb."""
    parser = argparse.ArgumentParser(prog="harambee-stack")
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="start every process, seed demo data, and wait for Ctrl-C")
    run.add_argument("--state-dir", type=Path, default=Path(".run"),
                     help="data, keys and logs (default: .run)")
    run.add_argument("--gateway-port", type=int, default=GATEWAY.port,
                     help="the gateway's port on 127.0.0.1 (default: %(default)s)")
    args = parser.parse_args(argv)
    return _run(state_dir=args.state_dir, gateway_port=args.gateway_port)


def _run(*, state_dir: Path, gateway_port: int) -> int:
    # SIGTERM (a supervisor, `kill`) gets the same orderly shutdown as Ctrl-C: it raises KeyboardInterrupt.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stack = Stack(state_dir=state_dir, ports={**DEFAULT_PORTS, GATEWAY.name: gateway_port})
    print(f"Starting Harambee (state and logs in {stack.state_dir}) ...", flush=True)
    try:
        stack.start()
        _print_banner(stack)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 0
    except StackError as exc:
        print(f"harambee-stack: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind; it is bounded.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nStopping Harambee ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


def _print_banner(stack: Stack) -> None:
    credentials = stack.credentials
    tenant = credentials["clients"][0]["tenant"] if credentials.get("clients") else "<tenant>"
    print(
        f"""
Harambee is running.

  Gateway (the API and the token issuer): {stack.gateway_url}
  Demo credentials, also in {stack.credentials_path}:
{_indent(json.dumps(credentials, indent=2), 4)}

  Try it (README.md has the whole walk-through):
    curl -s -u '<client_id>:<client_secret>' -d grant_type=client_credentials {_token_endpoint(stack)}
    curl -H 'Authorization: Bearer <access_token>' {stack.gateway_url}/intake/v1/tenants/{tenant}/referrals

  Logs: {stack.logs_dir}
Press Ctrl-C to stop.""",
        flush=True,
    )


def _token_endpoint(stack: Stack) -> str:
    """The token endpoint the gateway advertises (RFC 8414), or a pointer to it."""
    metadata = f"{stack.gateway_url}/.well-known/oauth-authorization-server"
    try:
        return httpx.get(metadata, timeout=5.0, trust_env=False).raise_for_status().json()["token_endpoint"]
    except (httpx.HTTPError, ValueError, KeyError):
        return f"<token_endpoint from {metadata}>"


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())

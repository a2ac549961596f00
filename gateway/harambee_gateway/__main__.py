"""`python -m harambee_gateway <verb>`: migrate, serve, seed-demo and the operator's provisioning verbs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harambee_common.components import GATEWAY

if TYPE_CHECKING:
    from harambee_gateway.unit_of_work import RegistryUnitOfWork


def _migrate(_: argparse.Namespace) -> None:
    from harambee_common.migrations import upgrade

    url = os.environ.get("MIGRATION_DATABASE_URL")
    if not url:
        sys.exit("gateway: MIGRATION_DATABASE_URL is not set")
    upgrade(package=GATEWAY.package, url=url)


def _serve(_: argparse.Namespace) -> None:
    import uvicorn

    from harambee_common.collector import freeze_startup_objects
    from harambee_common.http_server import KEEP_ALIVE_SECONDS, BoundedHttpProtocol
    from harambee_gateway.app import create_app

    # Build the app here, not in uvicorn's factory call, so a missing key fails before binding.
    try:
        app = create_app()
    except RuntimeError as exc:
        sys.exit(str(exc))
    freeze_startup_objects()  # as every service's serve does (harambee_common.collector says why)
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", str(GATEWAY.port))),
        loop="uvloop",
        http=BoundedHttpProtocol,  # httptools, with bounds on what a request may make it buffer
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # longer than clients' pools keep a connection (httpx: 5 s)
        # Per-request access lines cost a large share of a proxied request; off unless asked for.
        access_log=os.environ.get("ACCESS_LOG", "0") == "1",
        server_header=False,
        # The gateway is the public edge: a caller's X-Forwarded-For is a claim, not the peer's
        # address, unless FORWARDED_ALLOW_IPS names a load balancer in front of it.
        proxy_headers="FORWARDED_ALLOW_IPS" in os.environ,
    )


@contextmanager
def _registry(url: str | None = None) -> Iterator[RegistryUnitOfWork]:
    """One registry transaction on `url` (DATABASE_URL by default) for a verb, its engine disposed after."""
    from harambee_common.db import create_db_engine, session_factory
    from harambee_gateway.unit_of_work import registry_unit_of_work

    url = url or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("gateway: DATABASE_URL is not set")
    engine = create_db_engine(url, pool_size=1)  # a verb makes one transaction: one connection
    try:
        with registry_unit_of_work(session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()


def _seed_demo(args: argparse.Namespace) -> None:
    from harambee_gateway.seed import DemoCredentials, seed_console, seed_demo

    with _registry() as uow:
        seeded = seed_demo(uow=uow)
        console_app, console_people = seed_console(uow=uow, gateway_url=args.gateway_url)
    document = DemoCredentials(
        gateway=args.gateway_url.rstrip("/"), clients=seeded.clients, people=[*seeded.people, *console_people],
        apps=[*seeded.apps, console_app],
    )
    text = document.model_dump_json(indent=2)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The file holds live secrets: readable by its owner only.
    out.touch(mode=0o600, exist_ok=True)
    out.chmod(0o600)
    out.write_text(text + "\n")
    print(text)


def _rotate_signing_key(args: argparse.Namespace) -> None:
    from harambee_gateway.config import GatewaySettings
    from harambee_gateway.signing import KeyRing, SigningKey

    try:
        settings = GatewaySettings.from_env()
    except RuntimeError as exc:
        sys.exit(str(exc))
    ring = KeyRing(SigningKey(settings.signing_key_pem), key_encryption_key=settings.key_encryption_key,
                   token_ttl_seconds=settings.token_ttl_seconds)
    lead = args.lead_seconds if args.lead_seconds is not None else settings.signing_key_publish_lead_seconds
    with _registry(settings.common.database_url) as uow:
        made = ring.rotate(uow=uow, publish_lead_seconds=lead, actor="cli")
    print(f"new signing key {made.key.kid}: published now, signs from {made.signs_from.isoformat()}")


def _reseal_secrets(args: argparse.Namespace) -> None:
    from harambee_common.db import create_db_engine, session_factory
    from harambee_gateway.reseal import ResealFailed, reseal
    from harambee_gateway.secret_box import legacy_root, read_key_encryption_key

    kek_file = os.environ.get("GATEWAY_KEY_ENCRYPTION_KEY_FILE")
    url = os.environ.get("DATABASE_URL")
    if not kek_file or not url:
        sys.exit("gateway: GATEWAY_KEY_ENCRYPTION_KEY_FILE (the new key) and DATABASE_URL must be set")
    try:
        new = read_key_encryption_key(kek_file)
        if args.previous_kek_file:
            previous = read_key_encryption_key(args.previous_kek_file, variable="--previous-kek-file")
        else:
            previous = legacy_root(Path(args.previous_signing_key_file).read_bytes())
    except (RuntimeError, OSError, ValueError) as exc:
        sys.exit(f"gateway: {exc}")
    engine = create_db_engine(url, pool_size=1)
    try:
        with session_factory(engine)() as db_session, db_session.begin():
            done = reseal(db_session=db_session, previous_root=previous, key_encryption_key=new)
    except ResealFailed as exc:
        sys.exit(f"gateway: nothing re-sealed: {exc}")
    finally:
        engine.dispose()
    print(f"re-sealed under the new key: {done.signing_keys} signing key(s), {done.totp_secrets} TOTP "
          f"secret(s), {done.provider_secrets} directory secret(s); {done.already} already under it")


def _create_admin_client(args: argparse.Namespace) -> None:
    from harambee_gateway.seed import ensure_platform_admin

    with _registry() as uow:
        issued = ensure_platform_admin(uow=uow, name=args.name)
    # The secret goes to stdout once, for the operator to put in a secret store; it is not kept.
    print(issued.model_dump_json(indent=2))


def _create_service_clients(args: argparse.Namespace) -> None:
    from harambee_gateway.seed import ensure_service_clients

    with _registry() as uow:
        issued = ensure_service_clients(uow=uow)
    # One directory per service, owner-only, holding what its REGISTRY_CLIENT_ID_FILE and
    # REGISTRY_CLIENT_SECRET_FILE name: each service is given its own directory, never another's.
    for client in issued:
        directory = Path(args.out) / client.name.removesuffix("-service")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, value in (("registry-client-id", client.client_id), ("registry-client-secret", client.client_secret)):
            path = directory / name
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(value + "\n")
        print(f"{client.name}: {client.client_id} (secret in {directory / 'registry-client-secret'})")


def main(argv: list[str] | None = None) -> None:
    """Runs one gateway command."""
    parser = argparse.ArgumentParser(prog="python -m harambee_gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the registry migrations").set_defaults(run=_migrate)
    commands.add_parser("serve", help="run the gateway").set_defaults(run=_serve)
    seed = commands.add_parser("seed-demo", help="create the demo tenants and clients")
    seed.add_argument("--out", required=True, help="where to write the demo credentials (JSON)")
    seed.add_argument(
        "--gateway-url",
        default=os.environ.get("HARAMBEE_ISSUER", f"http://127.0.0.1:{GATEWAY.port}"),
        help="the gateway's public URL, recorded in the credentials file",
    )
    seed.set_defaults(run=_seed_demo)
    rotate = commands.add_parser(
        "rotate-signing-key", help="publish a new token-signing key that signs after the lead time"
    )
    rotate.add_argument("--lead-seconds", type=float, default=None, help="override SIGNING_KEY_PUBLISH_LEAD_SECONDS")
    rotate.set_defaults(run=_rotate_signing_key)
    reseal = commands.add_parser(
        "reseal-secrets",
        help="re-seal every registry secret under GATEWAY_KEY_ENCRYPTION_KEY_FILE (the new key)",
    )
    previous = reseal.add_mutually_exclusive_group(required=True)
    previous.add_argument("--previous-kek-file", help="the key-encryption key being retired")
    previous.add_argument("--previous-signing-key-file",
                          help="the bootstrap signing key older versions sealed under (an upgrade)")
    reseal.set_defaults(run=_reseal_secrets)
    admin = commands.add_parser(
        "create-admin-client",
        help="create (or give a fresh secret to) a platform administrator client, for a new deployment",
    )
    admin.add_argument("--name", default="platform-admin")
    admin.set_defaults(run=_create_admin_client)
    service_clients = commands.add_parser(
        "create-service-clients",
        help="create (or give fresh secrets to) each service's registry client, written to --out/<service>/",
    )
    service_clients.add_argument("--out", required=True, help="the secrets directory (one sub-directory per service)")
    service_clients.set_defaults(run=_create_service_clients)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()

"""`python -m harambee_<component> migrate|serve`: the same two verbs for every component."""

from __future__ import annotations

import argparse
import logging
import os

from harambee_common.migrations import upgrade


def main(*, component: str, app_factory: str, default_port: int) -> None:
    """Parses the verb and runs it."""
    parser = argparse.ArgumentParser(prog=f"python -m harambee_{component}")
    parser.add_argument("verb", choices=["migrate", "serve"])
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format=f"%(asctime)s {component} %(levelname)s %(name)s: %(message)s",
    )
    if args.verb == "migrate":
        url = os.environ.get("MIGRATION_DATABASE_URL")
        if not url:
            raise SystemExit("MIGRATION_DATABASE_URL is not set")
        upgrade(package=f"harambee_{component}", url=url)
        return
    import uvicorn

    uvicorn.run(
        app_factory,
        factory=True,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", default_port)),
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        access_log=os.environ.get("ACCESS_LOG", "0") == "1",
    )

"""The frame every service shares: problem handlers, health, tracing, relay and consumers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from harambee_common import health, signing, whoami
from harambee_common.agreement_sync import AgreementSync
from harambee_common.auth import KeyCache, TokenVerifier
from harambee_common.components import component
from harambee_common.config import Settings
from harambee_common.consumer import EventConsumer, Subscription
from harambee_common.db import create_db_engine, session_factory
from harambee_common.problems import install_problem_handlers
from harambee_common.relay import OutboxRelay
from harambee_common.request_limits import BodyLimitMiddleware
from harambee_common.tenancy import path_parameters_in_path_order
from harambee_common.tracing import current_traceparent, new_traceparent
from harambee_common.workers import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceContext:
    """What a service's own background workers are built from when the app starts."""

    settings: Settings
    sessions: sessionmaker[Session]


# Builds one of a service's own workers (a dispatcher, a scheduler) when the app starts.
WorkerFactory = Callable[[ServiceContext], Worker]


def create_service_app(
    *,
    settings: Settings,
    title: str,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription] = (),
    relay: bool = True,
    agreements: bool = False,
    workers: Sequence[WorkerFactory] = (),
) -> FastAPI:
    """A service's FastAPI app; its relay, consumers, agreement bootstrap and workers run while the app runs.

    agreements=True: the service keeps a copy of the data-sharing agreements (its subscriptions take
    the registry's agreement events); with registry credentials configured it also loads the copy at
    startup from the registry's read API. `workers` are the service's own background jobs: built when
    the app starts, after the shared ones, and stopped before them (`app.state.workers` holds all).
    """
    # Its events are signed with its own key and others' verified against theirs: without keys, no start.
    signing.ensure_installed(component(settings.component))
    engine = create_db_engine(settings.database_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running: list[Worker] = []
        if relay and settings.run_relay:
            running.append(OutboxRelay.for_database(settings.relay_database_url,
                                                    bootstrap=settings.kafka_bootstrap_servers))
        running += [
            EventConsumer(subscription=s, sessions=sessions, bootstrap=settings.kafka_bootstrap_servers,
                          group_id=settings.consumer_group_prefix + s.name)
            for s in subscriptions
        ]
        if agreements and settings.registry_client_id and settings.registry_client_secret:
            running.append(AgreementSync(sessions=sessions, gateway_url=settings.gateway_url or settings.issuer,
                                         client_id=settings.registry_client_id,
                                         client_secret=settings.registry_client_secret,
                                         interval_seconds=settings.agreement_sync_interval_seconds,
                                         max_age_seconds=settings.agreement_copy_max_age_seconds))
        elif agreements:
            log.error("%s: no registry client (REGISTRY_CLIENT_ID, REGISTRY_CLIENT_SECRET[_FILE]): the agreement "
                      "copy is never confirmed, and /readyz says so", settings.component)
        context = ServiceContext(settings=settings, sessions=sessions)
        running += [build(context) for build in workers]
        for worker in running:
            worker.start()
        app.state.workers = running
        try:
            yield
        finally:
            for worker in reversed(running):
                worker.stop()
            engine.dispose()

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    app.state.applies_agreements = agreements
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.verifier = TokenVerifier(
        keys=KeyCache(settings.jwks_url), issuer=settings.issuer, audience=settings.audience
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(whoami.router)
    for router in routers:
        app.include_router(router)
    path_parameters_in_path_order(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(TraceContextMiddleware)
    return app


class TraceContextMiddleware:
    """Continues the caller's W3C trace (or starts one) for everything the request does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode() for k, v in scope["headers"] if k == b"traceparent"), None)
        traceparent = new_traceparent(incoming)
        token = current_traceparent.set(traceparent)

        async def send_with_trace(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"traceparent", traceparent.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            current_traceparent.reset(token)

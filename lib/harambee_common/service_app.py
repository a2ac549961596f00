"""The frame every service shares: problem handlers, health, tracing, relay and consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from harambee_common import health, whoami
from harambee_common.agreement_sync import AgreementSync
from harambee_common.auth import KeyCache, TokenVerifier
from harambee_common.config import Settings
from harambee_common.consumer import EventConsumer, Subscription
from harambee_common.db import create_db_engine, session_factory
from harambee_common.problems import install_problem_handlers
from harambee_common.relay import OutboxRelay
from harambee_common.tracing import current_traceparent, new_traceparent


def create_service_app(
    *,
    settings: Settings,
    title: str,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription] = (),
    relay: bool = True,
    agreements: bool = False,
) -> FastAPI:
    """A service's FastAPI app; its relay, consumers and agreement bootstrap run while the app runs.

    agreements=True: the service keeps a copy of the data-sharing agreements (its subscriptions take
    the registry's agreement events); with registry credentials configured it also loads the copy at
    startup from the registry's read API.
    """
    engine = create_db_engine(settings.database_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers: list[OutboxRelay | EventConsumer | AgreementSync] = []
        if relay and settings.run_relay:
            workers.append(OutboxRelay.for_database(settings.relay_database_url,
                                                    bootstrap=settings.kafka_bootstrap_servers))
        workers += [
            EventConsumer(subscription=s, sessions=sessions, bootstrap=settings.kafka_bootstrap_servers)
            for s in subscriptions
        ]
        if agreements and settings.registry_client_id and settings.registry_client_secret:
            workers.append(AgreementSync(sessions=sessions, gateway_url=settings.issuer,
                                         client_id=settings.registry_client_id,
                                         client_secret=settings.registry_client_secret))
        for worker in workers:
            worker.start()
        app.state.workers = workers
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            engine.dispose()

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
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

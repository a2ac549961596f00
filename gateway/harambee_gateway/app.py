"""The gateway application: its own routes behind the routing layer that forwards to services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from harambee_common import signing as event_keys
from harambee_common.components import GATEWAY
from harambee_common.db import create_db_engine, session_factory
from harambee_common.openapi_contract import document_problems
from harambee_common.problems import ServiceUnavailable, install_problem_handlers
from harambee_common.relay import OutboxRelay
from harambee_common.request_limits import BodyLimitMiddleware
from harambee_common.workers import Worker
from harambee_gateway import console, totp_secrets
from harambee_gateway.admin import router as admin_router
from harambee_gateway.auth import local_verifier
from harambee_gateway.config import GatewaySettings
from harambee_gateway.endpoints import router
from harambee_gateway.enrolment_endpoints import router as enrolment_router
from harambee_gateway.expiry import AgreementExpiry
from harambee_gateway.external_signin import ProviderKeys
from harambee_gateway.identity_providers import secret_box
from harambee_gateway.oauth import GatewayAuthorizationServer, HarambeeTokenGenerator
from harambee_gateway.oauth_limits import OAuthLimits, UsernameKeys
from harambee_gateway.proxy import ServiceProxy, UpstreamPool
from harambee_gateway.ratelimit import RateLimiter
from harambee_gateway.refusal_counts import RefusalCounter, RefusalSummaries
from harambee_gateway.registry_endpoints import router as registry_router
from harambee_gateway.signin_endpoints import router as signin_router
from harambee_gateway.signing import KeyRing, KeyRingRefresher, SigningKey


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """Builds the gateway from settings (read from the environment when not given)."""
    settings = settings or GatewaySettings.from_env()
    # The registry's events are signed with the gateway's event key: without it, start no relay.
    event_keys.ensure_installed(GATEWAY)
    retired = settings.retired_key_encryption_keys
    signing_key = KeyRing(SigningKey(settings.signing_key_pem), key_encryption_key=settings.key_encryption_key,
                          token_ttl_seconds=settings.token_ttl_seconds, retired_key_encryption_keys=retired)
    engine = create_db_engine(settings.common.database_url, pool_size=5)
    sessions = session_factory(engine)
    pool = UpstreamPool(pool_size=settings.upstream_pool_size)
    # People's TOTP secrets: sealed at enrolment, opened at sign-in.
    totp_box = totp_secrets.secret_box(settings.key_encryption_key, retired)
    refusal_counter = RefusalCounter()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # At startup, not in a migration: migrations run without the key-encryption key the seal needs.
        totp_secrets.seal_clear_secrets_at_startup(sessions=sessions, box=totp_box)
        # Started in order, stopped in reverse, like a service's (harambee_common.service_app).
        running: list[Worker] = []
        if settings.run_relay:
            running.append(OutboxRelay.for_database(settings.common.relay_database_url,
                                                    bootstrap=settings.common.kafka_bootstrap_servers))
        running.append(KeyRingRefresher(ring=signing_key, sessions=sessions,
                                        interval_seconds=settings.signing_key_refresh_seconds))
        running.append(AgreementExpiry(sessions=sessions, interval_seconds=settings.agreement_expiry_interval_seconds))
        # After the relay, so stopped before it: the last minute's count is written while it still runs.
        running.append(RefusalSummaries(counter=refusal_counter, sessions=sessions,
                                        interval_seconds=settings.refusal_summary_interval_seconds))
        for worker in running:
            worker.start()
        app.state.workers = running
        try:
            yield
        finally:
            for worker in reversed(running):
                worker.stop()
            await pool.close()
            engine.dispose()

    app = FastAPI(title="Harambee gateway", lifespan=lifespan)
    app.state.settings = settings
    app.state.signing_key = signing_key
    app.state.sessions = sessions
    app.state.upstreams = pool
    # Tenants' external OpenID Connect providers: their client secrets, and their JWKS as fetched.
    app.state.provider_secrets = secret_box(settings.key_encryption_key, retired)
    app.state.provider_keys = ProviderKeys()
    app.state.totp_secrets = totp_box
    app.state.oauth_limits = OAuthLimits.from_settings(settings)
    app.state.username_keys = UsernameKeys(settings.key_encryption_key)
    app.state.refusal_counter = refusal_counter
    app.state.authorization_server = GatewayAuthorizationServer(
        session_factory=sessions,
        token_generator=HarambeeTokenGenerator(
            issuer=settings.issuer,
            audience=settings.common.audience,
            signing_key=signing_key,
            ttl_seconds=settings.token_ttl_seconds,
        ),
    )
    app.state.verifier = local_verifier(ring=signing_key, issuer=settings.issuer, audience=settings.common.audience)
    app.include_router(router)
    app.include_router(admin_router)
    app.include_router(registry_router)
    app.include_router(signin_router)
    app.include_router(enrolment_router)
    console.mount(app, settings)
    install_problem_handlers(app)
    document_problems(app, every_operation=(ServiceUnavailable,))
    # Outermost of the app's middleware: forwarded requests never reach FastAPI's routing.
    limiter = None
    if settings.rate_limit_per_second > 0:
        limiter = RateLimiter(rate=settings.rate_limit_per_second, burst=max(1.0, settings.rate_limit_burst))
    app.add_middleware(
        ServiceProxy, upstreams=settings.upstreams, pool=pool, limiter=limiter, verifier=app.state.verifier
    )
    # Outside the proxy: an oversized body is refused before it is forwarded or parsed (MAX_BODY_BYTES).
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    return app

"""The gateway application: its own routes behind the routing layer that forwards to services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from harambee_common.db import create_db_engine
from harambee_common.problems import install_problem_handlers
from sqlalchemy.orm import sessionmaker

from harambee_gateway.config import GatewaySettings
from harambee_gateway.endpoints import router
from harambee_gateway.oauth import GatewayAuthorizationServer, HarambeeTokenGenerator
from harambee_gateway.proxy import ServiceProxy, UpstreamPool
from harambee_gateway.signing import SigningKey


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """Builds the gateway from settings (read from the environment when not given)."""
    settings = settings or GatewaySettings.from_env()
    signing_key = SigningKey(settings.signing_key_pem)
    engine = create_db_engine(settings.common.database_url, pool_size=5)
    sessions = sessionmaker(engine, expire_on_commit=False)
    pool = UpstreamPool(pool_size=settings.upstream_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await pool.close()
        engine.dispose()

    app = FastAPI(title="Harambee gateway", lifespan=lifespan)
    app.state.settings = settings
    app.state.signing_key = signing_key
    app.state.sessions = sessions
    app.state.upstreams = pool
    app.state.authorization_server = GatewayAuthorizationServer(
        session_factory=sessions,
        token_generator=HarambeeTokenGenerator(
            issuer=settings.issuer,
            audience=settings.common.audience,
            signing_key=signing_key,
            ttl_seconds=settings.token_ttl_seconds,
        ),
    )
    app.include_router(router)
    install_problem_handlers(app)
    # Outermost of the app's middleware: forwarded requests never reach FastAPI's routing.
    app.add_middleware(ServiceProxy, upstreams=settings.upstreams, pool=pool)
    return app

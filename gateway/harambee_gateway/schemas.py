"""Documents the gateway publishes."""

from __future__ import annotations

from pydantic import BaseModel


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    # RFC 8414 makes this field required; there is no authorization endpoint, hence no types.
    response_types_supported: list[str]


class Health(BaseModel):
    """A liveness or readiness answer."""

    status: str


class DemoClient(BaseModel):
    """One demo client's credentials, as written by `seed-demo`."""

    name: str
    client_id: str
    client_secret: str
    tenant: str
    scope: str


class DemoCredentials(BaseModel):
    """The file `seed-demo` writes for the demo and the end-to-end tests."""

    gateway: str
    clients: list[DemoClient]

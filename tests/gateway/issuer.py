"""The issuer and audience the gateway's tests issue and verify tokens for (conftest and browser both need them)."""

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "urn:harambee:api"

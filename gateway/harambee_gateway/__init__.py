"""The Harambee gateway: OAuth2 token endpoint, JWKS, registry and routing to the services."""

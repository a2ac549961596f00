"""The console: pages for county programme managers, national coordinators and compliance officers.

Served by the gateway under `/console/`, it holds no data of its own. A person signs in through the
gateway's own authorization-code flow with PKCE (and TOTP where their programme asks for it); the
token is kept sealed in an HttpOnly, SameSite cookie; and every figure on every page comes from a
service's API called with that token over HTTP through the gateway, so every rule, agreement and
audit record applies exactly as for any other client. `mount` adds it to the gateway's app.
"""

from harambee_gateway.console.app import mount

__all__ = ["mount"]

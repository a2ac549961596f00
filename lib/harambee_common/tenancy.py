"""Routes under a tenant: `/v1/tenants/{tenant}/...`, the tenant path parameter declared once per router.

Who may act in the tenant is each route's authenticator (harambee_common.auth); the unit of work
scopes the transaction to it (harambee_common.db). Endpoints then need no `tenant` argument at all.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI


def _tenant_in_path(tenant: str) -> str:
    """Declares the `{tenant}` path parameter (in the OpenAPI document too) for every route of a router."""
    return tenant


def tenant_router(**kwargs: Any) -> APIRouter:
    """A router whose routes live under `/v1/tenants/{tenant}`."""
    return APIRouter(prefix="/v1/tenants/{tenant}", dependencies=[Depends(_tenant_in_path)], **kwargs)


def path_parameters_in_path_order(app: FastAPI) -> None:
    """Lists each operation's path parameters in the order its path names them, in the OpenAPI document.

    A router-wide dependency's parameters come after a route's own, so `{tenant}` would follow
    `{case_id}`; generated clients take path parameters in the listed order, and the path's is the one
    they expect. Other parameters keep their places.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema.get("paths", {}).items():
                names = re.findall(r"{([^}]+)}", path)
                for operation in operations.values():
                    parameters = operation.get("parameters") or []
                    places = [i for i, p in enumerate(parameters) if p.get("in") == "path" and p["name"] in names]
                    ordered = sorted((parameters[i] for i in places), key=lambda p: names.index(p["name"]))
                    for place, parameter in zip(places, ordered, strict=True):
                        parameters[place] = parameter
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

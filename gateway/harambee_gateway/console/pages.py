"""Rendering: one Jinja2 environment per language (gettext installed), the security headers every
page carries, and what every page's layout needs (language, direction, navigation, CSRF token)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from harambee_common.auth import Principal
from harambee_common.permissions import Role
from harambee_gateway.console import charts
from harambee_gateway.console.cookies import Session
from harambee_gateway.console.i18n import LANGUAGES, Formats, direction, load_translations

TEMPLATES = Path(__file__).parent / "templates"
# No script runs on these pages; styles and images come from the console itself.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Visitor:
    """Who is looking at the page: their language and, once signed in, their session and token's claims."""

    language: str
    session: Session | None = None
    principal: Principal | None = None

    @property
    def csrf(self) -> str:
        """The token every form of this session carries back."""
        return self.session.csrf if self.session else ""


@dataclass(frozen=True)
class Place:
    """A page in the navigation: the tenant it is about and which of the person's roles opens it."""

    tenant: str
    role: str
    href: str


# Which page each role opens, per tenant the person holds it in.
HOME_OF_ROLE = {
    Role.programme_manager: "programme",
    Role.national_coordinator: "national",
    Role.compliance_officer: "audit",
}


def places(principal: Principal | None) -> list[Place]:
    """The console's pages this person's roles open, tenant by tenant."""
    if principal is None:
        return []
    return [
        Place(tenant=tenant, role=role, href=f"/console/t/{tenant}/{HOME_OF_ROLE[role]}")
        for tenant, roles in sorted(principal.tenants.items())
        for role in sorted(roles)
        if role in HOME_OF_ROLE
    ]


class Pages:
    """Renders the console's templates in the visitor's language."""

    def __init__(self) -> None:
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    @staticmethod
    def _environment(language: str) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(load_translations(language), newstyle=True)  # type: ignore[attr-defined]
        environment.globals.update(charts=charts, urlencode=urlencode)
        return environment

    def render(
        self, request: Request, visitor: Visitor, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """The page, with the layout's context and the console's security headers."""
        page = self._environments[visitor.language].get_template(template).render(
            lang=visitor.language,
            dir=direction(visitor.language),
            fmt=Formats(visitor.language),
            visitor=visitor,
            places=places(visitor.principal),
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            languages=LANGUAGES,
            **context,
        )
        return HTMLResponse(page, status_code=status, headers=HEADERS)

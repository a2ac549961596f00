"""The browser the console's tests drive: Debian's Chromium through Playwright, and what a person does with it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page

# Playwright cannot download its own browsers here: the tests use the operating system's Chromium.
CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
INSTALL = "apt-get install -y chromium   (Debian's package; or set CONSOLE_TEST_CHROMIUM to a Chromium binary)"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Where the run saves its screenshots when asked (`HARAMBEE_SCREENSHOTS_DIR=docs/screenshots` refreshes the
# README's); otherwise they go to the run's temporary directory, and the repository is left as it was.
SCREENSHOTS_DIR = "HARAMBEE_SCREENSHOTS_DIR"
PAGE_BUDGET_BYTES = 200 * 1024


def chromium_path(path: str = CHROMIUM) -> str:
    """The Chromium binary, or a failing test that says how to install it (never a silent skip)."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"The console's browser tests need Chromium at {path}, which is missing. Install it: {INSTALL}",
                    pytrace=False)
    return path


def person(credentials: dict[str, Any], username: str) -> dict[str, Any]:
    """A demo person's credentials."""
    return next(p for p in credentials["people"] if p["username"] == username)


def signed_in(
    browser: Browser, gateway: str, who: dict[str, Any], *, locale: str = "en-GB"
) -> tuple[BrowserContext, Page]:
    """A fresh browser context in which the person has signed in through the gateway's form."""
    context = browser.new_context(base_url=gateway, locale=locale, accept_downloads=True,
                                  viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto("/console/")
    page.get_by_role("link", name="Sign in" if locale.startswith("en") else "Ingia").click()
    page.fill("input[name=username]", who["username"])
    page.fill("input[name=password]", who["password"])
    page.locator("form[method=post] button[type=submit]").click()
    page.wait_for_url(f"{gateway}/console/")
    return context, page


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it stands (empty when none)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def page_weight(page: Page, path: str) -> int:
    """The bytes a visit to the page transfers: its HTML, and every stylesheet, script and image it loads."""
    response = page.goto(path)
    assert response is not None and response.ok, path
    resources = page.evaluate(
        "[...document.querySelectorAll('link[href], script[src], img[src]')].map(e => e.href || e.src)")
    return len(response.body()) + sum(len(page.context.request.get(url).body()) for url in resources)


class Screenshots:
    """Saves whole pages (or one part of a page) as `console-<name>.png` in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(self, page: Page, name: str, *, part: Locator | None = None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = str(self.directory / f"console-{name}.png")
        if part is None:
            page.screenshot(path=path, full_page=True)
        else:
            part.screenshot(path=path)


def screenshots_directory(default: Path) -> Path:
    """HARAMBEE_SCREENSHOTS_DIR when set (relative to the current directory), else the default."""
    chosen = os.environ.get(SCREENSHOTS_DIR)
    return Path(chosen).resolve() if chosen else default

"""The console's browser tests: the whole platform as `make run` starts it, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from harambee_stack.stack import Stack, free_ports
from tests.console.browser import Screenshots, chromium_path, screenshots_directory


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every component on free loopback ports (as tests/e2e's fixture); every process is stopped at the end."""
    with Stack(state_dir=tmp_path_factory.mktemp("console-stack"), ports=free_ports(), ephemeral=True) as stack:
        yield stack


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium (the system's: Playwright cannot download its own browsers here)."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        # As root in a container Chromium's sandbox cannot start; the pages are our own, on loopback.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    """Saves a page for the README: in the run's temporary directory, or where HARAMBEE_SCREENSHOTS_DIR says."""
    return Screenshots(screenshots_directory(tmp_path_factory.getbasetemp() / "screenshots"))

"""A missing Chromium is a failing test that says how to install it, never a silent skip."""

from __future__ import annotations

import pytest

from tests.console.browser import chromium_path


def test_a_missing_browser_fails_with_the_install_command(tmp_path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        chromium_path(str(tmp_path / "no-chromium-here"))
    assert "apt-get install -y chromium" in str(failed.value)


def test_a_file_that_is_not_executable_is_not_a_browser(tmp_path) -> None:
    not_executable = tmp_path / "chromium"
    not_executable.write_text("")
    with pytest.raises(pytest.fail.Exception):
        chromium_path(str(not_executable))

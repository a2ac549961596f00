"""End-to-end fixtures: the whole platform, every process, reached through the gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harambee_stack.stack import Stack, free_ports


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every component on free loopback ports for this directory's tests; every process is stopped when they end.

    Logs are in `stack.logs_dir` (a pytest temporary directory, kept for the last three sessions).
    """
    with Stack(state_dir=tmp_path_factory.mktemp("stack"), ports=free_ports(), ephemeral=True) as stack:
        yield stack

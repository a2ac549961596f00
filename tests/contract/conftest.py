"""The whole platform as real processes, for the suites here that only send it requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harambee_stack.stack import Stack, free_ports


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every process on free loopback ports, started once for the generated requests and the hostile input.

    Package-scoped, so it stops when this directory's tests end instead of running beside the rest of the
    suite; tests/e2e and tests/console keep their own, since they change what they run against.
    """
    with Stack(state_dir=tmp_path_factory.mktemp("platform"), ports=free_ports(), ephemeral=True) as stack:
        yield stack

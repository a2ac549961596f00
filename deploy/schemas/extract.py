"""Writes the JSON schema of each version of each CustomResourceDefinition given, for offline validation.

    python deploy/schemas/extract.py <crd.yaml>...

Each served version becomes deploy/schemas/<group>/<kind>_<version>.json: the CRD's openAPIV3Schema with
the descriptions left out (they are documentation, and most of the bytes). SOURCES.md says where each CRD
file came from; re-run this on the new files when an operator is upgraded, and update SOURCES.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent


def without_descriptions(schema: Any) -> Any:
    """The schema with every `description` keyword removed (a property *named* description stays)."""
    if isinstance(schema, dict):
        return {
            key: (
                {name: without_descriptions(sub) for name, sub in value.items()}
                if key == "properties"
                else without_descriptions(value)
            )
            for key, value in schema.items()
            if key != "description"
        }
    if isinstance(schema, list):
        return [without_descriptions(item) for item in schema]
    return schema


def extract(crd: dict[str, Any], out: Path = HERE) -> list[Path]:
    """Writes one file per served version of the CRD; returns their paths."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    written = []
    for version in crd["spec"]["versions"]:
        if not version.get("served", False):
            continue
        path = out / group / f"{kind.lower()}_{version['name']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = without_descriptions(version["schema"]["openAPIV3Schema"])
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


def main(files: list[str]) -> None:
    for name in files:
        for document in yaml.safe_load_all(Path(name).read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                for path in extract(document):
                    print(path.relative_to(HERE))


if __name__ == "__main__":
    main(sys.argv[1:])

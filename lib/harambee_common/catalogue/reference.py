"""The event catalogue's reference page (docs/events.md), written from the models themselves."""

from __future__ import annotations

import json
from typing import Any

from harambee_common.catalogue.base import CATALOGUE, EventData

HEADER = """# Event catalogue

Generated from `lib/harambee_common/catalogue/` by `python -m harambee_common.catalogue > docs/events.md`;
a test fails when this page is out of date. Every event is a CloudEvent 1.0 in Kafka's binary binding
(see CONVENTIONS.md): the `ce_*` headers carry id, source, type, subject (the person's pseudonymous
reference where the event concerns one), time, tenant and trace; the value is the data below, as JSON.
Data holds references and codes only: never a name, a date of birth, contact details or free text
about a person. Producers build it from these models and consumers validate it against them.

Every event is signed by the component that produces it: `ce_signature` (Ed25519, base64url) over its
id, type, source, tenant, subject, time and data, and `ce_signaturekey` (the key's id), verified against
the key pinned to the topic's producer (`harambee_common.signing`). A type is accepted only on the topic
it is listed under here (types every service publishes, on any service's own topic); anything else is
parked, never applied, never logged by audit.
"""


def _type_of(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _type_of(definitions[name], definitions) if "enum" in definitions[name] else name
    if "anyOf" in schema:
        return " or ".join(_type_of(s, definitions) for s in schema["anyOf"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " / ".join(json.dumps(v) for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}), definitions)}"
    if schema.get("type") == "object" and "additionalProperties" in schema:
        return f"map of {_type_of(schema['additionalProperties'], definitions)}"
    if "format" in schema:
        return f"{schema.get('type', 'string')} ({schema['format']})"
    return str(schema.get("type", "any"))


def _fields(model: type[EventData] | dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    schema = model if isinstance(model, dict) else model.model_json_schema(ref_template="#/$defs/{model}")
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        kind = _type_of(prop, definitions).replace("|", "\\|")
        note = (prop.get("description") or "").replace("\n", " ")
        rows.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} | {note} |")
    return rows


def render() -> str:
    """The whole page, topic by topic, type by type."""
    lines = [HEADER]
    by_topic: dict[str, list[type[EventData]]] = {}
    for model in CATALOGUE.values():
        by_topic.setdefault(model.topic or "every service's own topic", []).append(model)
    for topic in sorted(by_topic):
        lines.append(f"## {topic}\n")
        for model in sorted(by_topic[topic], key=lambda m: m.type):
            schema = model.model_json_schema(ref_template="#/$defs/{model}")
            definitions = schema.get("$defs", {})
            lines.append(f"### `{model.type}`\n")
            lines.append(f"{(model.__doc__ or '').strip()}\n")
            lines.append("| field | type | required | meaning |")
            lines.append("|---|---|---|---|")
            lines.extend(_fields(schema, definitions))
            for name, nested in sorted(definitions.items()):
                if "properties" in nested:
                    lines.append(f"\n`{name}`: {(nested.get('description') or '').strip()}\n")
                    lines.append("| field | type | required | meaning |")
                    lines.append("|---|---|---|---|")
                    lines.extend(_fields(nested, definitions))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"

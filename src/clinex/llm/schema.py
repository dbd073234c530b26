"""The JSON schema of an LLM's extraction answer, generated from the core types.

Every string and array is bounded and every object closed (``additionalProperties: false``):
a grammar built from an unbounded schema lets a small model run on until the token cap.
The answer is deliberately flatter than an :class:`~clinex.core.types.Entity` — no offsets
(models count characters badly; grounding finds them) and the set assertion flags as a list.
"""

from __future__ import annotations

from typing import Any

from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTE_NAMES, ENTITY_TYPES

#: Version of the answer format; prompts and parsers name the version they speak.
SCHEMA_VERSION = "v1"


def output_schema(*, max_entities: int = 32, max_text: int = 120, max_attribute: int = 40) -> dict[str, Any]:
    """The schema ``{"entities": [{"type", "text", "assertion"?, "attributes"?}, ...]}``."""
    entity = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": list(ENTITY_TYPES)},
            "text": {"type": "string", "minLength": 1, "maxLength": max_text},
            "assertion": {
                "type": "array",
                "items": {"type": "string", "enum": list(ASSERTION_FLAGS)},
                "maxItems": len(ASSERTION_FLAGS),
            },
            "attributes": {
                "type": "object",
                "properties": {
                    name: {"type": "string", "minLength": 1, "maxLength": max_attribute}
                    for name in ATTRIBUTE_NAMES
                },
                "additionalProperties": False,
            },
        },
        "required": ["type", "text"],
        "additionalProperties": False,
    }
    return {
        "title": f"clinex extraction {SCHEMA_VERSION}",
        "type": "object",
        "properties": {"entities": {"type": "array", "items": entity, "maxItems": max_entities}},
        "required": ["entities"],
        "additionalProperties": False,
    }

"""Build the chat for one note from a versioned prompt template and few-shot examples."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from clinex.core.errors import ConfigError
from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTES, ENTITY_TYPES
from clinex.llm.base import Message
from clinex.llm.fewshot import Example

DEFAULT_PROMPT = "extract.v1"


class Prompt:
    """A prompt template: a shipped name (``"extract.v1"``) or a path to a ``.jinja`` file.

    The template defines two macros, ``system(schema, entity_types, assertion_flags,
    attributes)`` and ``user(note)``.
    """

    def __init__(self, name: str = DEFAULT_PROMPT) -> None:
        self.name = name
        source = _template_source(name)
        env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
        try:
            module: Any = env.from_string(source).module
            self._system = module.system
            self._user = module.user
        except (jinja2.TemplateError, AttributeError) as exc:
            raise ConfigError(
                f"prompt {name}: {exc}",
                hint="a prompt template defines the macros system(...) and user(note)",
            ) from None

    def messages(
        self, note: str, *, schema: dict[str, Any], examples: Sequence[Example] = ()
    ) -> list[Message]:
        """System instruction, one user/assistant turn per example, then the note."""
        system = str(
            self._system(
                json.dumps(schema, separators=(",", ":")),
                list(ENTITY_TYPES),
                list(ASSERTION_FLAGS),
                {kind: list(names) for kind, names in ATTRIBUTES.items()},
            )
        )
        chat: list[Message] = [{"role": "system", "content": system}]
        for example in examples:
            chat.append({"role": "user", "content": str(self._user(example.text))})
            chat.append({"role": "assistant", "content": example.answer()})
        chat.append({"role": "user", "content": str(self._user(note))})
        return chat


def _template_source(name: str) -> str:
    if name.endswith(".jinja"):
        try:
            return Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read prompt template {name}: {exc.strerror}") from None
    shipped = resources.files("clinex.llm.prompts").joinpath(f"{name}.jinja")
    if not shipped.is_file():
        raise ConfigError(
            f"unknown prompt {name!r}", hint=f"use {DEFAULT_PROMPT!r} or a path to a .jinja file"
        )
    return shipped.read_text(encoding="utf-8")

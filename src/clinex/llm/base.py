"""The interface every LLM backend implements (transformers, llama.cpp, OpenAI-compatible)."""

from __future__ import annotations

from typing import Any, Protocol, TypedDict


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class LLMBackend(Protocol):
    """A chat model. A registered backend class also carries ``Config``, the dataclass of its
    options (each with a help text), and is built from it: ``Backend(**asdict(config))``."""

    #: The versioned registry name, e.g. ``"llamacpp.v1"``.
    name: str

    def generate(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The model's answer to a chat. With ``json_schema``, decoding is constrained to it
        where the backend allows; otherwise the caller parses and repairs. Raises BackendError."""
        ...

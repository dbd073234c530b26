"""The interface every LLM backend implements (transformers, llama.cpp, OpenAI-compatible)."""

from __future__ import annotations

from typing import Any, Protocol, TypedDict

from clinex.core.errors import BackendError


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class LLMBackend(Protocol):
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


class ContextLengthError(BackendError):
    """The prompt does not fit the model's context window; the caller may split the note."""

    code = "E502"

"""GGUF models through llama.cpp (``llama-cpp-python``), constrained by JSON-schema grammars."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from clinex.core.config import option
from clinex.core.errors import BackendError, ConfigError, ContextLengthError, ModelError
from clinex.llm.base import Message
from clinex.llm.models import resolve_model


@dataclass(frozen=True, kw_only=True)
class LlamaCppConfig:
    """Options of the ``llamacpp`` backend."""

    model: str | None = option(
        None, "a GGUF file or a packaged model name (smollm2, gemma3); default smollm2"
    )
    n_ctx: int = option(4096, "context window in tokens")
    n_threads: int | None = option(None, "CPU threads (default: llama.cpp's)")
    n_gpu_layers: int = option(0, "layers offloaded to a GPU (llama.cpp built with one)")
    chat_format: str | None = option(
        None, "llama.cpp chat format (default: the model's; gemma for Gemma base)"
    )
    seed: int = option(0, "sampling seed")


class LlamaCppBackend:
    """A local GGUF model. ``model`` is a file or a packaged model name (default ``smollm2``).

    Models without a chat template of their own (Gemma 3 base) get ``chat_format="gemma"``;
    llama.cpp would otherwise fall back to a Llama-2 format silently.
    """

    name = "llamacpp.v1"
    Config = LlamaCppConfig

    def __init__(
        self,
        model: str | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        chat_format: str | None = None,
        seed: int = 0,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ConfigError(
                "the llamacpp backend needs llama-cpp-python",
                hint="install it as the Makefile does (make install-dev), or use backend='transformers'",
            ) from None
        path = resolve_model(model)
        if not path.is_file():
            raise ModelError(f"{path} is not a GGUF file", hint="the llamacpp backend loads one .gguf file")
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                chat_format=chat_format,
                seed=seed,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelError(f"llama.cpp cannot load {path.name}: {exc}") from None
        metadata = self._llm.metadata
        gemma = metadata.get("general.architecture", "").startswith("gemma")
        if chat_format is None and gemma and "tokenizer.chat_template" not in metadata:
            self._llm.chat_format = "gemma"
        self.model_path = path
        self.n_ctx = n_ctx
        self._grammars: dict[str, Any] = {}
        # One llama context cannot decode two prompts at once.
        self._lock = threading.Lock()

    def generate(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        grammar = None if json_schema is None else self._grammar(json_schema)
        with self._lock:
            try:
                result: Any = self._llm.create_chat_completion(
                    messages=list(messages),  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=seed,
                    grammar=grammar,
                )
            except ValueError as exc:
                if "context window" in str(exc):
                    raise ContextLengthError(
                        f"the prompt does not fit {self.model_path.name}'s context of {self.n_ctx} tokens",
                        hint="lower chunk_chars or raise n_ctx",
                    ) from None
                raise BackendError(
                    f"llama.cpp failed on {self.model_path.name}: {type(exc).__name__}"
                ) from None
        content = result["choices"][0]["message"].get("content")
        return content if isinstance(content, str) else ""

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes in this model's vocabulary (benchmarks/llm_backends.py)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

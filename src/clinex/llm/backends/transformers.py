"""Local models through Hugging Face transformers: an HF folder or a GGUF file, CPU or CUDA.

JSON-schema constraints come from xgrammar's logits processor (measured fastest here, see
``benchmarks/llm_backends.py``). A LoRA adapter folder (peft) is applied on load. GGUF files
are dequantised to float32 on load, so they run slower than through llama.cpp.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.core.config import option
from clinex.core.errors import BackendError, ConfigError, ContextLengthError, ModelError
from clinex.llm.base import Message
from clinex.llm.models import resolve_model


@dataclass(frozen=True, kw_only=True)
class TransformersConfig:
    """Options of the ``transformers`` backend."""

    model: str | None = option(None, "an HF folder, a .gguf file or a packaged model name; default smollm2")
    adapter: str | None = option(None, "a LoRA adapter folder (peft) applied on load")
    device: str | None = option(None, "cpu or cuda (default: cuda when available)")
    n_threads: int | None = option(None, "torch CPU threads for the whole process")


class TransformersBackend:
    """A causal LM from ``model`` (folder, ``.gguf`` file, or packaged name; default ``smollm2``).

    ``device`` is ``"cpu"``, ``"cuda"`` or None (CUDA when available). ``n_threads`` sets
    torch's CPU threads for the whole process. Models without a chat template get Gemma's turn
    format when they are Gemma models, ChatML otherwise.
    """

    name = "transformers.v1"
    Config = TransformersConfig

    def __init__(
        self,
        model: str | None = None,
        *,
        adapter: str | None = None,
        device: str | None = None,
        n_threads: int | None = None,
    ) -> None:
        try:
            import torch
            import transformers
        except ImportError:
            raise ConfigError(
                "the transformers backend needs torch and transformers", hint="pip install 'clinex[llm]'"
            ) from None
        if n_threads is not None:
            torch.set_num_threads(n_threads)
        path = resolve_model(model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        folder, extra = (path.parent, {"gguf_file": path.name}) if path.is_file() else (path, {})
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            # Any: transformers' own annotations are looser than mypy --strict can follow.
            self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(folder, **extra)
            network: Any = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **extra)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"transformers cannot load {path.name}: {type(exc).__name__}") from None
        if adapter is not None:
            network = _with_adapter(network, adapter)
        self.model = network.to(self.device).eval()
        self.model_path = path
        config = self.model.config
        self.context = int(getattr(config, "max_position_embeddings", 0) or 0) or None
        self._gemma = str(getattr(config, "model_type", "")).startswith("gemma")
        self._stop_ids = _stop_token_ids(self.tokenizer, self._gemma)
        self._grammars: dict[str, Any] = {}
        self._tokenizer_info: Any = None
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
        import torch

        prompt = self._render(messages)
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        length = int(inputs["input_ids"].shape[1])
        if self.context is not None and length + max_tokens > self.context:
            raise ContextLengthError(
                f"{length} prompt tokens + {max_tokens} new ones exceed {self.model_path.name}'s context of {self.context}",
                hint="lower chunk_chars or max_tokens",
            )
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "eos_token_id": self._stop_ids}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if json_schema is not None:
            options["logits_processor"] = [self._processor(json_schema)]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._stop_ids[0]
        with self._lock, torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            try:
                output = self.model.generate(**inputs, pad_token_id=pad, **options)
            except (RuntimeError, ValueError) as exc:
                raise BackendError(
                    f"transformers generation failed on {self.model_path.name}: {type(exc).__name__}"
                ) from None
        answer: str = self.tokenizer.decode(output[0, length:], skip_special_tokens=True)
        return answer

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes in this model's vocabulary (benchmarks/llm_backends.py)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _render(self, messages: list[Message]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            rendered: str = self.tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
            return rendered
        if self._gemma:
            return _gemma_turns(messages)
        return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + (
            "<|im_start|>assistant\n"
        )

    def _processor(self, schema: dict[str, Any]) -> Any:
        import xgrammar as xgr

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            if self._tokenizer_info is None:
                self._tokenizer_info = xgr.TokenizerInfo.from_huggingface(
                    self.tokenizer,
                    vocab_size=int(self.model.config.vocab_size),
                    stop_token_ids=self._stop_ids,
                )
            compiler = xgr.GrammarCompiler(self._tokenizer_info)
            # any_whitespace=False: free whitespace lets small models pad the answer to the cap.
            self._grammars[key] = compiler.compile_json_schema(key, any_whitespace=False)
        # The processor keeps per-generation state: a fresh one for each call.
        return xgr.contrib.hf.LogitsProcessor(self._grammars[key])


def _gemma_turns(messages: list[Message]) -> str:
    """Gemma's turn format; it has no system role, so the system text opens the first user turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = []
    for message in (m for m in messages if m["role"] != "system"):
        content = message["content"]
        if system and message["role"] == "user":
            content, system = f"{system}\n\n{content}", ""
        role = "model" if message["role"] == "assistant" else "user"
        turns.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    return "<bos>" + "".join(turns) + "<start_of_turn>model\n"


def _stop_token_ids(tokenizer: Any, gemma: bool) -> list[int]:
    ids = [] if tokenizer.eos_token_id is None else [int(tokenizer.eos_token_id)]
    for token in ("<end_of_turn>",) if gemma else ("<|im_end|>",):
        token_id = tokenizer.convert_tokens_to_ids(token)
        if isinstance(token_id, int) and token_id != tokenizer.unk_token_id and token_id not in ids:
            ids.append(token_id)
    if not ids:
        raise ModelError("the model's tokenizer has no end-of-sequence token")
    return ids


def _with_adapter(model: Any, adapter: str) -> Any:
    if not Path(adapter).is_dir():
        raise ModelError(
            f"LoRA adapter {adapter} is not a folder", hint="give the folder peft saved the adapter to"
        )
    try:
        from peft import PeftModel
    except ImportError:
        raise ConfigError("a LoRA adapter needs peft", hint="pip install 'clinex[llm]'") from None
    try:
        return PeftModel.from_pretrained(model, adapter)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot apply LoRA adapter {adapter}: {type(exc).__name__}") from None

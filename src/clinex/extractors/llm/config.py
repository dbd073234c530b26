"""The options of the LLM extractor (its backend's options are the backend's ``Config``)."""

from __future__ import annotations

from dataclasses import dataclass

from clinex.core.config import option
from clinex.llm.fewshot import DEFAULT_EXAMPLES
from clinex.llm.prompt import DEFAULT_PROMPT
from clinex.text.grounding import DEFAULT_FUZZY_THRESHOLD

#: Assertion modes: the pipeline's learned layer, its ConText rules only, the model's own flags,
#: or a flag wherever the model or the learned layer sets it.
LLM_ASSERTION: tuple[str, ...] = ("learned", "context", "model", "both")


@dataclass(frozen=True, kw_only=True)
class LLMConfig:
    """How the LLM extractor prompts, splits, retries and grounds; see :class:`LLMExtractor`."""

    backend: str | None = option(
        None,
        "backend registry name (llamacpp, transformers, openai or a plugin's); default: openai when "
        "base_url is set, else llamacpp when installed, else transformers",
    )
    prompt: str = option(DEFAULT_PROMPT, "prompt template: a shipped name (extract.v1) or a .jinja path")
    examples: str | None = option(
        DEFAULT_EXAMPLES, "few-shot examples: a shipped name or a JSONL path; none: null"
    )
    shots: int = option(1, "few-shot examples put in each prompt")
    constrained: bool = option(True, "constrain decoding to the answer's JSON schema where the backend can")
    max_tokens: int = option(512, "tokens the model may write per window")
    temperature: float = option(0.0, "sampling temperature (0: greedy)")
    seed: int = option(0, "sampling seed of the first pass (pass k uses seed + k)")
    max_entities: int = option(32, "entities the schema allows per window")
    chunk_chars: int = option(1500, "window size in characters for long notes")
    chunk_overlap: int = option(200, "characters consecutive windows share")
    passes: int = option(1, "runs per window; confidence is scaled by the share of passes that agree")
    fuzzy_threshold: float | None = option(
        DEFAULT_FUZZY_THRESHOLD, "similarity (0..1) a fuzzy grounding needs; null: exact only"
    )
    drop_ungrounded: bool = option(False, "drop entities not found in the note (else kept, alignment none)")
    strict: bool = option(False, "raise on an answer that cannot be parsed after a retry (else counted)")
    assertion: str = option(
        "learned",
        "learned (the pipeline's learned layer), context (its ConText rules), model (the LLM's own "
        "flags) or both (a flag the model or the learned layer sets)",
    )

    def __post_init__(self) -> None:
        if self.passes < 1 or self.max_tokens < 1 or self.max_entities < 1:
            raise ValueError("passes, max_tokens and max_entities must be ≥ 1")
        if self.shots < 0:
            raise ValueError(f"shots must be ≥ 0, got {self.shots}")
        if not 0 <= self.chunk_overlap < self.chunk_chars:
            raise ValueError(
                f"chunk_overlap={self.chunk_overlap} must be ≥ 0 and below chunk_chars={self.chunk_chars}"
            )
        if self.assertion not in LLM_ASSERTION:
            raise ValueError(f"assertion must be one of {', '.join(LLM_ASSERTION)}, got {self.assertion!r}")

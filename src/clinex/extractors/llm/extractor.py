"""The LLM extractor: prompt a decoder LLM per window of the note, parse, ground, merge."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clinex.core.errors import ConfigError, OutputParseError
from clinex.core.registry import llm_backends
from clinex.core.types import Assertion, Entity
from clinex.llm.base import ContextLengthError, LLMBackend
from clinex.llm.fewshot import DEFAULT_EXAMPLES, Example, load_examples
from clinex.llm.parsing import AnswerEntity, parse_answer
from clinex.llm.prompt import DEFAULT_PROMPT, Prompt
from clinex.llm.schema import output_schema
from clinex.text.chunking import Window, windows
from clinex.text.grounding import DEFAULT_FUZZY_THRESHOLD, ground

log = logging.getLogger("clinex.llm")

#: Environment variable naming an OpenAI-compatible server, so `clinex extract --extractor llm`
#: can use one without a CLI option for it.
BASE_URL_ENV = "CLINEX_LLM_BASE_URL"
#: Confidence by alignment: a model gives no calibrated probability, so how well its answer
#: is found in the note is the evidence we have. Scaled by the share of passes that agree.
CONFIDENCE = {"exact": 0.9, "fuzzy": 0.6, "none": 0.2}
#: Windows are not split below this size when the prompt overflows the context.
_MIN_WINDOW = 200
_RETRY_REMINDER = 'Answer only with one JSON object {"entities": [...]} following the schema.'


@dataclass(slots=True)
class _Found:
    entity: Entity
    passes: set[int] = field(default_factory=set)


class LLMExtractor:
    """Entities from an instruction-following LLM, grounded in the note.

    Backends: ``"llamacpp"`` (GGUF, the default when llama-cpp-python is installed),
    ``"transformers"`` (HF folder or GGUF; ``adapter`` = a LoRA folder) or ``"openai"``
    (any OpenAI-compatible server at ``base_url``, default ``$CLINEX_LLM_BASE_URL``;
    ``structured="json_object"`` for llama.cpp's servers), or an :class:`LLMBackend` instance.
    ``model`` is a path or a packaged model name (``"smollm2"``, ``"gemma3"``).

    Notes longer than ``chunk_chars`` are split on section/sentence boundaries with
    ``chunk_overlap``; ``passes`` > 1 runs each window again with the next seeds (use a
    ``temperature`` > 0) and scales confidence by the share of passes that found an entity.
    Malformed answers are repaired, retried once, then counted in :attr:`stats`
    (``strict=True`` raises instead). Ungroundable entities are kept with alignment ``none``
    and low confidence, or dropped with ``drop_ungrounded=True``; one whose text is grounded
    elsewhere in the note (a window repeating a fact it cannot see) is merged into that one.
    """

    name = "llm.v1"

    def __init__(
        self,
        *,
        backend: str | LLMBackend | None = None,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        adapter: str | None = None,
        device: str | None = None,
        n_threads: int | None = None,
        timeout: float = 120.0,
        structured: str = "json_schema",
        prompt: str = DEFAULT_PROMPT,
        examples: str | None = DEFAULT_EXAMPLES,
        shots: int = 1,
        constrained: bool = True,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 0,
        max_entities: int = 32,
        chunk_chars: int = 1500,
        chunk_overlap: int = 200,
        passes: int = 1,
        fuzzy_threshold: float | None = DEFAULT_FUZZY_THRESHOLD,
        drop_ungrounded: bool = False,
        strict: bool = False,
    ) -> None:
        if passes < 1 or shots < 0 or max_tokens < 1 or max_entities < 1:
            raise ConfigError("passes, max_tokens and max_entities must be ≥ 1 and shots ≥ 0")
        if not 0 <= chunk_overlap < chunk_chars:
            raise ConfigError(
                f"chunk_overlap={chunk_overlap} must be ≥ 0 and below chunk_chars={chunk_chars}"
            )
        if base_url is None and (
            backend is None or (isinstance(backend, str) and backend.startswith("openai"))
        ):
            base_url = os.environ.get(BASE_URL_ENV)
        self.backend = (
            backend
            if backend is not None and not isinstance(backend, str)
            else _make_backend(
                backend,
                model=model,
                base_url=base_url,
                api_key=api_key,
                adapter=adapter,
                device=device,
                n_threads=n_threads,
                timeout=timeout,
                structured=structured,
                seed=seed,
            )
        )
        self.prompt = Prompt(prompt)
        self.examples: list[Example] = load_examples(examples)[:shots] if examples and shots else []
        self.schema = output_schema(max_entities=max_entities)
        self.constrained = constrained
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.passes = passes
        self.fuzzy_threshold = fuzzy_threshold
        self.drop_ungrounded = drop_ungrounded
        self.strict = strict
        #: Counters over every note so far: windows, calls, repaired, retried, failed windows,
        #: invalid items, ungrounded/dropped entities, dropped attributes.
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()

    def extract(self, text: str) -> list[Entity]:
        jobs = [
            (window, run)
            for window in windows(text, max_chars=self.chunk_chars, overlap=self.chunk_overlap)
            for run in range(self.passes)
        ]
        workers = min(len(jobs), max(1, int(getattr(self.backend, "max_concurrency", 1))))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda job: self._answer(text, *job), jobs))
        found: dict[tuple[Any, ...], _Found] = {}
        for (window, run), answer in zip(jobs, answers, strict=True):
            for entity in self._ground_all(text, window, answer):
                _merge(found, entity, run)
        grounded_texts = {
            (e.type, e.text.lower()) for e in (item.entity for item in found.values()) if e.grounded
        }
        entities = [
            item.entity.with_(confidence=round(item.entity.confidence * len(item.passes) / self.passes, 4))
            for item in found.values()
            if item.entity.grounded or (item.entity.type, item.entity.text.lower()) not in grounded_texts
        ]
        log.info(
            "llm: %d windows, %d entities (%d ungrounded), %d failed windows so far",
            len(jobs),
            len(entities),
            sum(not e.grounded for e in entities),
            self.stats["failed_windows"],
        )
        return sorted(entities, key=lambda e: (e.start if e.start is not None else len(text), e.end or 0))

    def _count(self, name: str, n: int = 1) -> None:
        # Windows run in threads for servers; Counter updates are not atomic.
        with self._stats_lock:
            self.stats[name] += n

    def _answer(self, text: str, window: Window, run: int) -> list[AnswerEntity]:
        """The parsed answer for one window, splitting it if it overflows the context."""
        self._count("windows")
        try:
            return self._ask(text[window.start : window.end], seed=self.seed + run)
        except ContextLengthError:
            size = window.end - window.start
            if size <= _MIN_WINDOW:
                raise
            self._count("split_windows")
            halves = windows(text[window.start : window.end], max_chars=size // 2 + 1, overlap=0)
            return [
                entity
                for half in halves
                for entity in self._answer(
                    text, Window(window.start + half.start, window.start + half.end), run
                )
            ]

    def _ask(self, chunk: str, *, seed: int) -> list[AnswerEntity]:
        messages = self.prompt.messages(chunk, schema=self.schema, examples=self.examples)
        schema = self.schema if self.constrained else None
        for attempt in range(2):
            self._count("calls")
            raw = self.backend.generate(
                messages,
                json_schema=schema,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                seed=seed,
            )
            try:
                parsed = parse_answer(raw)
            except OutputParseError:
                if attempt == 0:
                    self._count("retried")
                    messages = [*messages, {"role": "user", "content": _RETRY_REMINDER}]
                    continue
                self._count("failed_windows")
                log.warning("llm: a window's answer could not be parsed after a retry (counted, skipped)")
                if self.strict:
                    raise
                return []
            self._count("repaired", parsed.repaired)
            self._count("invalid_items", parsed.invalid_items)
            return parsed.entities
        raise AssertionError("unreachable: the loop returns or raises")

    def _ground_all(self, text: str, window: Window, answer: Iterable[AnswerEntity]) -> list[Entity]:
        """Entities with spans in the note; a repeated text takes the next occurrence."""
        cursor: dict[str, int] = {}
        out = []
        for item in answer:
            key = item.text.lower()
            hit = ground(
                text,
                item.text,
                start=cursor.get(key, window.start),
                end=window.end,
                fuzzy_threshold=self.fuzzy_threshold,
            )
            if hit is None and key in cursor:
                hit = ground(
                    text, item.text, start=window.start, end=window.end, fuzzy_threshold=self.fuzzy_threshold
                )
            attributes = self._grounded_attributes(text, window, item.attributes)
            assertion = Assertion(**dict.fromkeys(item.assertion, True))
            if hit is None:
                self._count("ungrounded")
                if self.drop_ungrounded:
                    self._count("dropped_ungrounded")
                    continue
                out.append(
                    Entity(
                        type=item.type,  # type: ignore[arg-type]  # checked by parse_answer
                        text=item.text,
                        alignment="none",
                        assertion=assertion,
                        attributes=attributes,
                        confidence=CONFIDENCE["none"],
                    )
                )
                continue
            cursor[key] = hit.end
            out.append(
                Entity(
                    type=item.type,  # type: ignore[arg-type]
                    text=text[hit.start : hit.end],
                    start=hit.start,
                    end=hit.end,
                    alignment=hit.alignment,
                    assertion=assertion,
                    attributes=attributes,
                    confidence=CONFIDENCE[hit.alignment],
                )
            )
        return out

    def _grounded_attributes(self, text: str, window: Window, attributes: dict[str, str]) -> dict[str, str]:
        """Attribute values as the note writes them; values not in the window are invented."""
        kept = {}
        for name, value in attributes.items():
            hit = ground(
                text, value, start=window.start, end=window.end, fuzzy_threshold=self.fuzzy_threshold
            )
            if hit is None:
                self._count("dropped_attributes")
            else:
                kept[name] = text[hit.start : hit.end]
        return kept


def _merge(found: dict[tuple[Any, ...], _Found], entity: Entity, run: int) -> None:
    """One entity per span (or per text when ungrounded): union attributes and flags, best confidence."""
    key = (entity.type, entity.start, entity.end) if entity.grounded else (entity.type, entity.text.lower())
    if key not in found:
        found[key] = _Found(entity, {run})
        return
    item = found[key]
    item.passes.add(run)
    old = item.entity
    flags = dict.fromkeys(old.assertion.names() + entity.assertion.names(), True)
    item.entity = old.with_(
        attributes={**entity.attributes, **old.attributes},
        assertion=Assertion(**flags),
        confidence=max(old.confidence, entity.confidence),
    )


def _make_backend(
    kind: str | None,
    *,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    adapter: str | None,
    device: str | None,
    n_threads: int | None,
    timeout: float,
    structured: str,
    seed: int,
) -> LLMBackend:
    if kind is None:
        kind = (
            "openai" if base_url else ("llamacpp" if _has_llama_cpp() and adapter is None else "transformers")
        )
    versioned = llm_backends.resolve(kind)
    factory = llm_backends.get(versioned)
    if adapter is not None and not versioned.startswith("transformers"):
        raise ConfigError(
            f"adapter= needs the transformers backend, not {kind!r}", hint="pass backend='transformers'"
        )
    options: dict[str, Any]
    if versioned.startswith("openai"):
        if base_url is None:
            raise ConfigError(
                "the openai backend needs base_url", hint="e.g. base_url='http://127.0.0.1:8000/v1'"
            )
        options = {"model": model, "api_key": api_key, "timeout": timeout, "structured": structured}
        backend: LLMBackend = factory(base_url, **options)
        return backend
    if base_url is not None:
        raise ConfigError(f"base_url is only for the openai backend, not {kind!r}")
    if versioned.startswith("transformers"):
        options = {"adapter": adapter, "device": device, "n_threads": n_threads}
    elif versioned.startswith("llamacpp"):
        options = {"n_threads": n_threads, "seed": seed}
    else:  # a plugin backend: it gets the model and nothing we cannot know it accepts
        options = {}
    backend = factory(model, **options)
    return backend


def _has_llama_cpp() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None

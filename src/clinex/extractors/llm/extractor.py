"""The LLM extractor: prompt a decoder LLM per window of the note, parse, ground, merge."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from clinex.core.config import build_config
from clinex.core.errors import ConfigError, ContextLengthError, OutputParseError
from clinex.core.registry import llm_backends
from clinex.core.types import Assertion, Entity
from clinex.extractors.llm.config import LLMConfig
from clinex.llm.base import LLMBackend
from clinex.llm.fewshot import Example, load_examples
from clinex.llm.parsing import AnswerEntity, parse_answer
from clinex.llm.prompt import Prompt
from clinex.llm.schema import output_schema
from clinex.text.chunking import Window, windows
from clinex.text.grounding import ground

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

    Args:
        config: The extractor's options (:class:`~clinex.extractors.llm.config.LLMConfig`);
            keyword options of the same names override it.
        backend: A backend instance, or a registry name (``"llamacpp"``: GGUF, the default
            when llama-cpp-python is installed; ``"transformers"``: HF folder or GGUF, with a
            LoRA ``adapter``; ``"openai"``: any OpenAI-compatible server at ``base_url``,
            default ``$CLINEX_LLM_BASE_URL``).
        **options: LLMConfig fields, and the backend's own options (its ``Config``: ``model``,
            ``base_url``, ``n_threads``, ...), which a plugin backend receives too. An option
            neither knows raises ConfigError.

    Notes longer than ``chunk_chars`` are split on section/sentence boundaries with
    ``chunk_overlap``; ``passes`` > 1 runs each window again with the next seeds (use a
    ``temperature`` > 0) and scales confidence by the share of passes that found an entity.
    Malformed answers are repaired, retried once, then counted in :attr:`stats`
    (``strict=True`` raises instead). Ungroundable entities are kept with alignment ``none``
    and low confidence, or dropped with ``drop_ungrounded=True``; one whose text is grounded
    elsewhere in the note (a window repeating a fact it cannot see) is merged into that one.
    Assertion is the pipeline's learned layer unless ``assertion`` says otherwise.
    """

    name = "llm.v2"

    def __init__(
        self, config: LLMConfig | None = None, *, backend: str | LLMBackend | None = None, **options: Any
    ) -> None:
        names = {f.name for f in fields(LLMConfig)}
        ours = {k: options.pop(k) for k in list(options) if k in names}
        instance = backend if backend is not None and not isinstance(backend, str) else None
        if isinstance(backend, str):
            ours["backend"] = backend
        if instance is not None and options:
            raise ConfigError(
                f"backend option(s) {', '.join(sorted(options))} given with a backend instance",
                hint="configure the backend instance itself",
            )
        base = asdict(config) if config is not None else {}
        self.config = cfg = build_config(
            LLMConfig, {**base, **ours}, source="llm extractor", help_hint="see the fields of LLMConfig"
        )
        self.backend: LLMBackend = instance if instance is not None else _make_backend(cfg, options)
        self.prompt = Prompt(cfg.prompt)
        self.examples: list[Example] = (
            load_examples(cfg.examples)[: cfg.shots] if cfg.examples and cfg.shots else []
        )
        self.schema = output_schema(max_entities=cfg.max_entities)
        #: What the pipeline does for this extractor (see clinex.core.extractor).
        self.assigns = frozenset({"assertion"}) if cfg.assertion == "model" else frozenset()
        self.assertion_layer = "context" if cfg.assertion == "context" else "learned"
        #: Counters over every note so far: windows, calls, repaired, retried, failed windows,
        #: invalid items, ungrounded/dropped entities, dropped attributes.
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        # The counters of the last note each thread extracted (see note_stats).
        self._last_note = threading.local()

    def provenance(self) -> dict[str, Any]:
        """The backend and model, the prompt template (versioned) and the decoding settings."""
        return {
            "name": str(
                getattr(self.backend, "model", None) or getattr(self.backend, "model_path", "") or ""
            ),
            "backend": getattr(self.backend, "name", type(self.backend).__name__),
            "prompt": self.config.prompt,
            "examples": self.config.examples if self.config.shots else None,
            "constrained": self.config.constrained,
            "passes": self.config.passes,
            "assertion": self.config.assertion,
        }

    def extract(self, text: str) -> list[Entity]:
        jobs = [
            (window, run)
            for window in windows(text, max_chars=self.config.chunk_chars, overlap=self.config.chunk_overlap)
            for run in range(self.config.passes)
        ]
        workers = min(len(jobs), max(1, int(getattr(self.backend, "max_concurrency", 1))))
        note: Counter[str] = Counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda job: self._answer(text, job[0], job[1], note), jobs))
        self._last_note.stats = note
        found: dict[tuple[Any, ...], _Found] = {}
        for (window, run), answer in zip(jobs, answers, strict=True):
            for entity in self._ground_all(text, window, answer, note):
                _merge(found, entity, run)
        grounded_texts = {
            (e.type, e.text.lower()) for e in (item.entity for item in found.values()) if e.grounded
        }
        entities = [
            item.entity.with_(
                confidence=round(item.entity.confidence * len(item.passes) / self.config.passes, 4)
            )
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

    def note_stats(self) -> dict[str, int]:
        """The counters of the last note this thread extracted (windows, calls, repaired, retried,
        failed windows ...): the pipeline records them in ``Document.meta["extractor_stats"]``."""
        return dict(getattr(self._last_note, "stats", None) or {})

    def _count(self, name: str, n: int, note: Counter[str]) -> None:
        # Windows run in threads for servers; Counter updates are not atomic.
        with self._stats_lock:
            self.stats[name] += n
            note[name] += n

    def _answer(self, text: str, window: Window, run: int, note: Counter[str]) -> list[AnswerEntity]:
        """The parsed answer for one window, splitting it if it overflows the context."""
        self._count("windows", 1, note)
        try:
            return self._ask(text[window.start : window.end], seed=self.config.seed + run, note=note)
        except ContextLengthError:
            size = window.end - window.start
            if size <= _MIN_WINDOW:
                raise
            self._count("split_windows", 1, note)
            halves = windows(text[window.start : window.end], max_chars=size // 2 + 1, overlap=0)
            return [
                entity
                for half in halves
                for entity in self._answer(
                    text, Window(window.start + half.start, window.start + half.end), run, note
                )
            ]

    def _ask(self, chunk: str, *, seed: int, note: Counter[str]) -> list[AnswerEntity]:
        messages = self.prompt.messages(chunk, schema=self.schema, examples=self.examples)
        schema = self.schema if self.config.constrained else None
        for attempt in range(2):
            self._count("calls", 1, note)
            raw = self.backend.generate(
                messages,
                json_schema=schema,
                max_tokens=self.config.max_tokens,
                temperature=self.config.temperature,
                seed=seed,
            )
            try:
                parsed = parse_answer(raw)
            except OutputParseError:
                if attempt == 0:
                    self._count("retried", 1, note)
                    messages = [*messages, {"role": "user", "content": _RETRY_REMINDER}]
                    continue
                self._count("failed_windows", 1, note)
                log.warning("llm: a window's answer could not be parsed after a retry (counted, skipped)")
                if self.config.strict:
                    raise
                return []
            self._count("repaired", parsed.repaired, note)
            self._count("invalid_items", parsed.invalid_items, note)
            return parsed.entities
        raise AssertionError("unreachable: the loop returns or raises")

    def _ground_all(
        self, text: str, window: Window, answer: Iterable[AnswerEntity], note: Counter[str]
    ) -> list[Entity]:
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
                fuzzy_threshold=self.config.fuzzy_threshold,
            )
            if hit is None and key in cursor:
                hit = ground(
                    text,
                    item.text,
                    start=window.start,
                    end=window.end,
                    fuzzy_threshold=self.config.fuzzy_threshold,
                )
            attributes = self._grounded_attributes(text, window, item.attributes, note)
            # The model's flags are kept where they are wanted (model, both); else the pipeline's
            # assertion stage sets every flag.
            keep = self.config.assertion in ("model", "both")
            assertion = Assertion(**dict.fromkeys(item.assertion, True)) if keep else Assertion()
            if hit is None:
                self._count("ungrounded", 1, note)
                if self.config.drop_ungrounded:
                    self._count("dropped_ungrounded", 1, note)
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

    def _grounded_attributes(
        self, text: str, window: Window, attributes: dict[str, str], note: Counter[str]
    ) -> dict[str, str]:
        """Attribute values as the note writes them; values not in the window are invented."""
        kept = {}
        for name, value in attributes.items():
            hit = ground(
                text, value, start=window.start, end=window.end, fuzzy_threshold=self.config.fuzzy_threshold
            )
            if hit is None:
                self._count("dropped_attributes", 1, note)
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


def _make_backend(config: LLMConfig, options: dict[str, Any]) -> LLMBackend:
    """The backend ``config.backend`` names, built from ``options`` through its ``Config``."""
    options = dict(options)
    kind = config.backend
    if kind is None or kind.startswith("openai"):
        options.setdefault("base_url", os.environ.get(BASE_URL_ENV))
        if options["base_url"] is None:
            del options["base_url"]
    if kind is None:
        kind = (
            "openai"
            if options.get("base_url")
            else ("llamacpp" if _has_llama_cpp() and options.get("adapter") is None else "transformers")
        )
    versioned = llm_backends.resolve(kind)
    factory = llm_backends.get(versioned)
    config_cls = getattr(factory, "Config", None)
    if config_cls is None:
        # A plugin backend without a Config: it gets the options, checked against its signature.
        backend: LLMBackend = factory(**options)
        return backend
    known = {f.name for f in fields(config_cls)}
    if "seed" in known:
        options.setdefault("seed", config.seed)
    if "adapter" in options and "adapter" not in known:
        raise ConfigError(
            f"adapter= needs the transformers backend, not {kind!r}", hint="pass backend='transformers'"
        )
    settings = build_config(
        config_cls,
        options,
        source=f"LLM backend {versioned}",
        help_hint=f"see {config_cls.__name__}'s fields",
    )
    backend = factory(**asdict(settings))
    return backend


def _has_llama_cpp() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None

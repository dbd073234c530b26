"""The encoder extractor: fine-tuned MiniLM tagger → linked attributes → assertion → codes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import torch

from clinex.core.errors import ConfigError
from clinex.core.types import ENTITY_TYPES, Assertion, Code, Entity
from clinex.extractors.encoder.coding import Coder, FoundTerm
from clinex.extractors.encoder.inference import PredictedSpan, TokenOutputs, decode, run_tagger
from clinex.extractors.encoder.linking import Span, complete_attributes, link_attributes, retype_by_attributes
from clinex.extractors.encoder.model import PACKAGED_MODEL_DIR, load_model, load_tokenizer
from clinex.extractors.rules import patterns
from clinex.terminology import load as load_terminology
from clinex.terminology.base import SYNONYM_SCORE

AssertionMode = Literal["learned", "context", "head", "both"]
ASSERTION_MODES: tuple[str, ...] = ("learned", "context", "head", "both")
Precision = Literal["auto", "fp32", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "int8")
#: Terminology each entity type is coded in; conditions also get embedding retrieval.
CODE_SYSTEMS: dict[str, str] = {"condition": "icd10cm", "medication": "rxnorm", "lab": "loinc"}


class EncoderExtractor:
    """Extracts entities with the packaged (or a given) fine-tuned MiniLM tagger, on CPU.

    ``assertion`` picks ``"learned"`` (default: ConText rules, sections and the logistic layer
    of :mod:`clinex.assertion.learned`; best on the NegEx sentences), ``"context"`` (rules and
    sections only), ``"head"`` (the tagger's own assertion head) or ``"both"`` (a flag is set
    when the head or the learned layer sets it). ``coding=False`` leaves codes to the
    normaliser. ``subterms=True`` (default) splits a condition span that terminology lookup
    cannot code (or matches only fuzzily while naming several terms exactly) and that runs over
    more than one phrase (several ICD-10-CM names or synonyms inside it, or one joined to other
    words by a comma, "and", "with", "due to"…) into one coded entity per name ("duodenal ulcer
    and constipation complaining of pain" → three): the tagger, trained on synthetic letters,
    often runs on over a list or a clause of free narrative. A span that is one phrase around
    one name ("right varicocele", "macroscopic hematuria") keeps its extent and takes that
    name's code, less specific than the phrase, at 0.8 × its score; and a procedure span that
    only names conditions ("pruritus", "hydrocele and varicocele") becomes those conditions.
    ``retrieval=True`` adds ICD-10-CM embedding retrieval for conditions that terminology lookup
    cannot code; it is off by default because its index (~98k concepts) takes many CPU-minutes
    to build the first time (then cached).
    ``precision``: ``"fp32"``; ``"bf16"`` runs the matmuls in bfloat16 (CPU autocast, outputs
    back in fp32), faster where the CPU has bfloat16 instructions (AVX512-BF16, AMX) and
    emulated elsewhere; ``"int8"`` quantises the linear layers (dynamic), faster but less
    accurate; ``"auto"`` (default) is bf16 where the CPU has those instructions, else fp32.
    """

    name = "encoder.v1"

    def __init__(
        self,
        *,
        model: str | Path | None = None,
        assertion: AssertionMode = "learned",
        coding: bool = True,
        retrieval: bool = False,
        subterms: bool = True,
        precision: Precision = "auto",
        threads: int | None = None,
        batch_size: int = 16,
    ) -> None:
        if assertion not in ASSERTION_MODES:
            raise ConfigError(
                f"unknown assertion mode {assertion!r}", hint=f"choose one of: {', '.join(ASSERTION_MODES)}"
            )
        if precision not in PRECISIONS:
            raise ConfigError(
                f"unknown precision {precision!r}", hint=f"choose one of: {', '.join(PRECISIONS)}"
            )
        if threads is not None:
            torch.set_num_threads(threads)
        self.model_dir = Path(model) if model is not None else PACKAGED_MODEL_DIR
        tagger, self.config, self.checksum = load_model(self.model_dir)
        #: The precision actually used ("auto" resolved).
        self.precision = resolve_precision(precision)
        if self.precision == "int8":
            tagger = torch.ao.quantization.quantize_dynamic(tagger, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]
        self.tagger = tagger
        self.tokenizer = load_tokenizer()
        self.assertion = assertion
        self.batch_size = batch_size
        self._coding = coding
        self._retrieval = retrieval
        self._subterms = subterms
        self._coders: dict[str, Coder] = {}

    def extract(self, text: str) -> list[Entity]:
        return self.extract_batch([text])[0]

    def extract_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities for many notes at once (their windows share batches)."""
        outputs = self._run(texts)
        return [self._entities(text, decode(o)) for text, o in zip(texts, outputs, strict=True)]

    def assert_entities(self, text: str, entities: Sequence[Entity]) -> list[Entity]:
        """Set the assertion flags of given entities of ``text`` with the learned head alone."""
        outputs = self._run([text])[0]
        asserted = []
        for entity in entities:
            probs = (
                outputs.flag_probs(entity.start, entity.end)
                if entity.start is not None and entity.end is not None
                else None
            )
            flags = {f: p >= 0.5 for f, p in probs.items()} if probs else {}
            asserted.append(entity.with_(assertion=Assertion(**flags)))
        return asserted

    def _run(self, texts: Sequence[str]) -> list[TokenOutputs]:
        return run_tagger(
            self.tagger,
            self.tokenizer,
            texts,
            max_len=self.config.max_len,
            overlap=self.config.overlap,
            batch_size=self.batch_size,
            bf16=self.precision == "bf16",
        )

    def _entities(self, text: str, predicted: list[PredictedSpan]) -> list[Entity]:
        spans = [t for s in predicted if (t := _whole_words(text, s)) is not None]
        attribute_spans = complete_attributes(
            text, [Span(s.type, s.start, s.end) for s in spans if s.type not in ENTITY_TYPES]
        )
        found = [
            s
            for s in spans
            if s.type in ENTITY_TYPES
            and not _attribute_word(text[s.start : s.end])
            and not any(a.start <= s.start and s.end <= a.end for a in attribute_spans)
        ]
        types = retype_by_attributes(text, [Span(s.type, s.start, s.end) for s in found], attribute_spans)
        found = [replace(s, type=t) for s, t in zip(found, types, strict=True)]
        attributes = link_attributes(text, [Span(s.type, s.start, s.end) for s in found], attribute_spans)
        entities = [
            Entity(
                type=s.type,  # type: ignore[arg-type]  # checked against ENTITY_TYPES above
                text=text[s.start : s.end],
                start=s.start,
                end=s.end,
                assertion=Assertion(**{flag: p >= 0.5 for flag, p in s.flags.items()}),
                attributes=attrs,
                confidence=min(1.0, max(0.0, s.score)),
            )
            for s, attrs in zip(found, _with_histology(text, found, attributes), strict=True)
        ]
        if self.assertion != "head":
            entities = self._context(text, entities)
        return self._code(entities) if self._coding else entities

    def _context(self, text: str, entities: list[Entity]) -> list[Entity]:
        from clinex.assertion.context import assert_entities

        # The rules keep flags already set, so "both" is the union of head and learned layer.
        if self.assertion != "both":
            entities = [e.with_(assertion=Assertion()) for e in entities]
        return assert_entities(text, entities, learned=self.assertion != "context")

    def _code(self, entities: list[Entity]) -> list[Entity]:
        out: list[list[Entity]] = [[e] for e in entities]
        for entity_type, system in CODE_SYSTEMS.items():
            indexes = [i for i, e in enumerate(entities) if e.type == entity_type and e.code is None]
            if not indexes:
                continue
            coder = self._coder(system, embedding=self._retrieval and entity_type == "condition")
            for i, result in zip(indexes, coder.code([entities[i].text for i in indexes]), strict=True):
                terms = None
                if entity_type == "condition" and self._subterms:
                    terms = _terms_to_split(entities[i], result, coder)
                if terms is not None:
                    out[i] = split_uncoded(entities[i], terms)
                else:
                    code, score = result if result is not None else (None, 0.0)
                    out[i] = [_scored(entities[i], code, score)]
        if self._subterms:
            coder = self._coder("icd10cm", embedding=self._retrieval)
            for i, entity in enumerate(entities):
                if entity.type == "procedure":
                    out[i] = conditions_in_procedure(entity, coder.terms_in(entity.text))
        return [e for group in out for e in group]

    def _coder(self, system: str, *, embedding: bool) -> Coder:
        if system not in self._coders:
            self._coders[system] = Coder(load_terminology(system), embedding=embedding)
        return self._coders[system]


def _with_histology(
    text: str, found: Sequence[PredictedSpan], attributes: list[dict[str, str]]
) -> list[dict[str, str]]:
    """A tumour's own words are its histology ("adenocarcinoma, T2 N0 M0; G1"), as in the
    gold of ``clinex synth`` and the FHIR mapping's histology Observation, unless a separate
    histology span was linked to it."""
    return [
        {"histology": text[s.start : s.end], **attrs} if s.type == "tumor" else attrs
        for s, attrs in zip(found, attributes, strict=True)
    ]


def _terms_to_split(
    entity: Entity, result: tuple[Code, float] | None, coder: Coder
) -> list[FoundTerm] | None:
    """The names inside a condition span to split it into, or None to keep what lookup gave:
    split when lookup found nothing, or only a fuzzy match for a list in which more than one
    name is found exactly ("shortness of breath, fever" read as shortness of breath, dropping
    the fever)."""
    if result is not None and (result[1] >= SYNONYM_SCORE or not _PHRASE_GLUE.search(entity.text)):
        return None
    terms = coder.terms_in(entity.text)
    return terms if result is None or len(terms) > 1 else None


def split_uncoded(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """An uncodable span split into the ``terms`` found inside it (:meth:`Coder.terms_in`) when
    it runs over more than one phrase, each its own coded entity (same assertion and
    attributes). A span that is one phrase around one name ("right varicocele") keeps its
    extent and takes that name's code, a less specific one, at ``CONTAINED_NAME_FACTOR`` × its
    score; a span naming nothing stays uncoded."""
    if not terms:
        return [_scored(entity, None, 0.0)]
    if len(terms) == 1 and not _PHRASE_GLUE.search(entity.text):
        return [_scored(entity, terms[0].code, terms[0].score * CONTAINED_NAME_FACTOR)]
    return _term_entities(entity, terms)


def conditions_in_procedure(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """A procedure span that is only condition names becomes those conditions: the tagger,
    trained on letters whose procedures are named apart, calls a finding or a list of them on
    narrative a procedure ("pruritus", "hydrocele and varicocele"). Any other word keeps it a
    procedure: "depression screening" or "suture of open wound" name no present condition."""
    rest = entity.text
    for t in sorted(terms, key=lambda t: -t.start):
        rest = rest[: t.start] + " " + rest[t.end :]
    if not terms or any(w.lower() not in _LIST_WORDS for w in re.findall(r"[^\W_]+", rest)):
        return [entity]
    return _term_entities(entity.with_(type="condition"), terms)


def _term_entities(entity: Entity, terms: Sequence[FoundTerm]) -> list[Entity]:
    """One coded entity per term found inside ``entity`` (offsets into its text), each keeping
    its type, assertion and attributes."""
    start = entity.start or 0
    return [
        _scored(
            entity.with_(text=entity.text[t.start : t.end], start=start + t.start, end=start + t.end),
            t.code,
            t.score,
        )
        for t in terms
    ]


def _attribute_word(name: str) -> bool:
    """Whether an entity name is only a unit, route or frequency ("mcg", "intravenous", "daily")
    or one character: what the tagger mistakes for a name on narrative unlike its letters."""
    return len(name) < 2 or any(
        p.fullmatch(name) for p in (patterns.DOSE_UNIT, patterns.ROUTE, patterns.FREQUENCY)
    )


def _scored(entity: Entity, code: Code | None, score: float) -> Entity:
    """``entity`` with ``code``: an uncodable entity is less trustworthy, a well-matched code
    keeps the span's score."""
    return entity.with_(code=code, confidence=entity.confidence * (0.5 + 0.5 * score))


def resolve_precision(precision: Precision) -> Precision:
    """``precision`` with ``"auto"`` resolved: bf16 where this CPU runs it natively, else fp32."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16() else "fp32"


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX)."""
    # Not torch.ops.mkldnn._is_mkldnn_bf16_supported(): it is true on every AVX-512 CPU, also
    # those that emulate bfloat16 and run it slower than fp32.
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


#: How much a name's code is trusted for a phrase around it ("right varicocele" → varicocele).
CONTAINED_NAME_FACTOR = 0.8
#: What joins two phrases: a span holding one of these is a list or a clause, not one term.
_PHRASE_GLUE = re.compile(
    r"[,;]|\b(?:and|or|with|who|after|due to|secondary to|complaining)\b", re.IGNORECASE
)
#: The words a list of condition names may hold besides the names.
_LIST_WORDS = frozenset({"and", "or", "with", "of", "the", "a", "an", "bilateral", "left", "right"})
#: Words a span may not start or end with: the tagger sometimes runs on into a list's glue.
_EDGE_WORDS = frozenset({"and", "or", "of", "with", "the", "a", "an", "to", "in", "on", "for"})
_EDGE_CHARS = " \t\n,;:.()"


def _whole_words(text: str, span: PredictedSpan) -> PredictedSpan | None:
    """Widen a span that starts or ends inside a word (a sub-word tag) to the whole word, then
    trim punctuation and glue words ("fever and", "shortness of breath,") from its edges;
    None when nothing is left."""
    start, end = span.start, span.end
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    if span.type in ENTITY_TYPES:
        start, end = _hyphen_joined(text, start, end)
        while True:
            while start < end and text[start] in _EDGE_CHARS:
                start += 1
            while end > start and text[end - 1] in _EDGE_CHARS:
                end -= 1
            words = text[start:end].split(" ")
            if len(words) > 1 and words[-1].lower() in _EDGE_WORDS:
                end -= len(words[-1])
            elif len(words) > 1 and words[0].lower() in _EDGE_WORDS:
                start += len(words[0])
            else:
                break
    if start >= end:
        return None
    return PredictedSpan(span.type, start, end, span.score, span.flags)


#: A name's hyphenated lead-in ("C-reactive", "non-small") or numbered end ("COVID-19", "HER-2"):
#: short pieces the tagger's sub-word tags leave out. A longer piece is a name of its own
#: ("amoxicillin-clavulanate" is two medications).
_HYPHEN_PREFIX = re.compile(r"(?<![\w-])[^\W_]{1,5}-\Z")
_HYPHEN_SUFFIX = re.compile(r"-(?=[^\W_]{0,2}\d)[^\W_]{1,3}(?![\w-])")


def _hyphen_joined(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` widened over a short hyphen-joined piece before or after the word."""
    before = _HYPHEN_PREFIX.search(text, max(0, start - 6), start)
    after = _HYPHEN_SUFFIX.match(text, end)
    return (before.start() if before else start), (after.end() if after else end)

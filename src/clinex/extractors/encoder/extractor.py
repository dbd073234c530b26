"""The encoder extractor: the fine-tuned MiniLM tagger → tidied spans → linked attributes.

Assertion and coding are the pipeline's stages (:mod:`clinex.pipeline`); this extractor says
which assertion it wants (its own head, the learned layer, or both) and may inject its MiniLM
retrieval into the normaliser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import torch

from clinex.core.errors import ConfigError
from clinex.core.types import ENTITY_TYPES, Assertion, Entity
from clinex.extractors.encoder.inference import PredictedSpan, TokenOutputs, decode, run_tagger
from clinex.extractors.encoder.linking import Span, complete_attributes, link_attributes, retype_by_attributes
from clinex.extractors.encoder.model import PACKAGED_MODEL_DIR, load_model, load_tokenizer
from clinex.extractors.encoder.precision import PRECISIONS, Precision, resolve_precision
from clinex.extractors.encoder.spans import attribute_word, whole_words
from clinex.extractors.encoder.subterms import conditions_in_procedure, split_into_terms, terms_to_split
from clinex.extractors.encoder.support import SpanSupport, wordpiece_words
from clinex.terminology.coding import Coder, Retriever

AssertionMode = Literal["learned", "context", "head", "both"]
ASSERTION_MODES: tuple[str, ...] = ("learned", "context", "head", "both")


class EncoderExtractor:
    """Extracts entities with the packaged (or a given) fine-tuned MiniLM tagger, on CPU.

    Args:
        model: A model directory written by ``clinex train`` (default: the packaged model).
        assertion: ``"learned"`` (default: the pipeline's ConText rules, sections and learned
            layer; best on the NegEx sentences), ``"context"`` (rules and sections only),
            ``"head"`` (the tagger's own assertion head) or ``"both"`` (a flag is set when the
            head or the learned layer sets it).
        subterms: Split condition spans that run over a list or clause into the terms they name,
            and procedure spans that only name conditions into those
            (:mod:`clinex.extractors.encoder.subterms`).
        support: Drop one-word spans that only the tagger supports — an everyday word that no
            terminology names, at a low tagger probability (:mod:`clinex.extractors.encoder.support`).
        retrieval: Give the normaliser MiniLM embedding retrieval for conditions lookup cannot
            code; off by default, as its index (~98k concepts) takes many CPU-minutes to build
            the first time (then cached).
        precision: ``"fp32"``; ``"bf16"`` runs the matmuls in bfloat16 (CPU autocast, outputs
            back in fp32), faster where the CPU has bfloat16 instructions (AVX512-BF16, AMX);
            ``"int8"`` quantises the linear layers (dynamic), faster but less accurate;
            ``"auto"`` (default) is bf16 where the CPU has those instructions, else fp32.
        threads: torch threads (default: torch's).
        batch_size: Token windows per forward pass; windows of several notes share batches
            (:meth:`extract_batch`).
    """

    name = "encoder.v2"

    def __init__(
        self,
        *,
        model: str | Path | None = None,
        assertion: AssertionMode = "learned",
        retrieval: bool = False,
        subterms: bool = True,
        support: bool = True,
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
        self._subterms = subterms
        self._support_wanted = support
        self._support: SpanSupport | None = None
        #: What the pipeline does for this extractor (see clinex.core.extractor).
        self.assigns = frozenset({"assertion"}) if assertion == "head" else frozenset()
        self.assertion_layer = "context" if assertion == "context" else "learned"
        self.retrievers: dict[str, Retriever] = {}
        if retrieval:
            from clinex.extractors.encoder.retrieval import LazyIndex

            self.retrievers["icd10cm"] = LazyIndex("icd10cm")
        self._coder: Coder | None = None

    def provenance(self) -> dict[str, Any]:
        """The tagger: where it was loaded from, its weights' sha256, base model and precision."""
        packaged = self.model_dir == PACKAGED_MODEL_DIR
        return {
            "name": "clinex packaged encoder" if packaged else self.model_dir.name,
            "path": None if packaged else str(self.model_dir),
            "checksum": f"sha256:{self.checksum}",
            "base_model": self.config.base_model,
            "precision": self.precision,
            "assertion": self.assertion,
        }

    def extract(self, text: str) -> list[Entity]:
        return self.extract_batch([text])[0]

    def extract_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities for many notes at once (their windows share batches)."""
        outputs = self._run(texts)
        return [self._entities(text, decode(o)) for text, o in zip(texts, outputs, strict=True)]

    def head_assertions(self, text: str, entities: Sequence[Entity]) -> list[Entity]:
        """Given entities of ``text`` with the flags of the tagger's assertion head alone."""
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
        spans = [t for s in predicted if (t := whole_words(text, s)) is not None]
        attribute_spans = complete_attributes(
            text, [Span(s.type, s.start, s.end) for s in spans if s.type not in ENTITY_TYPES]
        )
        inside = _inside_any(attribute_spans)
        found = [
            s
            for s in spans
            if s.type in ENTITY_TYPES
            and not attribute_word(text[s.start : s.end])
            and not inside(s.start, s.end)
        ]
        types = retype_by_attributes(text, [Span(s.type, s.start, s.end) for s in found], attribute_spans)
        found = [replace(s, type=t) for s, t in zip(found, types, strict=True)]
        attributes = link_attributes(text, [Span(s.type, s.start, s.end) for s in found], attribute_spans)
        # The head's flags are kept where they are wanted (head, both); else the pipeline's
        # assertion stage sets every flag.
        keep_flags = self.assertion in ("head", "both")
        entities = [
            Entity(
                type=s.type,  # type: ignore[arg-type]  # checked against ENTITY_TYPES above
                text=text[s.start : s.end],
                start=s.start,
                end=s.end,
                assertion=Assertion(**{flag: p >= 0.5 for flag, p in s.flags.items()})
                if keep_flags
                else Assertion(),
                attributes=attrs,
                confidence=min(1.0, max(0.0, s.score)),
            )
            for s, attrs in zip(found, _with_histology(text, found, attributes), strict=True)
        ]
        entities = self._split(entities) if self._subterms else entities
        return self._supported(entities) if self._support_wanted else entities

    def _supported(self, entities: list[Entity]) -> list[Entity]:
        """``entities`` less the one-word spans nothing but the tagger supports."""
        if self._support is None:
            from clinex.terminology import load

            self._support = SpanSupport(
                wordpiece_words(self.tokenizer),
                {"condition": load("icd10cm"), "lab": load("loinc"), "medication": load("rxnorm")},
            )
        return self._support.filter(entities)

    def _split(self, entities: list[Entity]) -> list[Entity]:
        """Run-on condition spans and procedure spans of condition names, split into terms."""
        if self._coder is None:
            from clinex.terminology import load

            self._coder = Coder(load("icd10cm"))
        coder = self._coder
        out: list[Entity] = []
        for entity in entities:
            if entity.type == "condition":
                terms = terms_to_split(entity, coder)
                out.extend([entity] if terms is None else split_into_terms(entity, terms))
            elif entity.type == "procedure":
                out.extend(conditions_in_procedure(entity, coder.terms_in(entity.text)))
            else:
                out.append(entity)
        return out


def _inside_any(spans: Sequence[Span]) -> Any:
    """A test of whether ``[start, end)`` lies inside one of ``spans``, in O(log n) per call."""
    import bisect

    ordered = sorted((s.start, s.end) for s in spans)
    starts = [s for s, _ in ordered]
    # The farthest end among spans starting at or before each one: a span inside any of them
    # lies inside the one reaching farthest.
    reach, farthest = [], -1
    for _, end in ordered:
        farthest = max(farthest, end)
        reach.append(farthest)

    def inside(start: int, end: int) -> bool:
        i = bisect.bisect_right(starts, start) - 1
        return i >= 0 and reach[i] >= end

    return inside


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

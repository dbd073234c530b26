"""The extraction pipeline: the stages every extractor's entities go through, in this order.

    note text
      1. extract       the extractor finds grounded entities (spans, types, attributes)
      2. check         every grounded entity reproduces its text, ``note[start:end] == text``,
                       or the extractor has a bug (InternalError, naming counts, never text)
      3. preprocess    sections and sentences of the note (:mod:`clinex.text.structure`)
      4. assert        negated / historical / family / uncertain / hypothetical
                       (:mod:`clinex.assertion.assertor`), unless the extractor assigns them
      5. normalise     codes, UCUM units, canonical routes and frequencies, confidence
                       (:mod:`clinex.terminology.normalise`: the one place a code is chosen)
      5b. calibrate    confidence → probability that the fact is correct, by a calibrator
                       fitted for this extractor and model (:mod:`clinex.calibration`), where
                       one is given or shipped; left raw otherwise
      6. filter        one entity per type and span (the most confident), in text order;
                       entities below ``min_confidence`` left out
      7. plausibility  dates, doses, units and contradictions checked (:mod:`clinex.plausibility`):
                       findings in ``meta["checks"]``, ``[]`` when there are none
    → Document, whose ``meta`` records what produced it (:meth:`Pipeline.provenance`)

An extractor declares what it does itself and what it needs (:mod:`clinex.core.extractor`); the
pipeline runs the rest, so every extractor gets the same assertion layer, coding and checks.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinex.core.errors import ClinexError, ConfigError, EmptyNoteError, InputError, InternalError
from clinex.core.extractor import Declaration, Extractor, SupportsBatch, declared
from clinex.core.registry import extractors
from clinex.core.types import Document, Entity

if TYPE_CHECKING:
    from clinex.calibration.calibrator import Calibrator
    from clinex.terminology.learned import LearnedLinker

log = logging.getLogger("clinex")

#: The extractor used when none is named: the fine-tuned encoder shipped in the package.
DEFAULT_EXTRACTOR = "encoder"
#: Notes per call of an extractor that takes several at once (:class:`SupportsBatch`).
DEFAULT_BATCH_SIZE = 16


@dataclass(frozen=True, slots=True)
class NoteInput:
    """One note for :func:`extract_many` and the batch engines."""

    text: str
    id: str = "note"
    patient: dict[str, Any] | None = None


def load_extractor(name: str | None = None, **options: Any) -> Extractor:
    """An extractor instance by registry name (``"rules"``, ``"encoder.v2"``, ...).

    Instances are cached per name and options, since loading a model or a lexicon is slow. An
    option the extractor does not take, or a value that cannot be cached, raises ConfigError.
    """
    versioned = extractors.resolve(name or DEFAULT_EXTRACTOR)
    factory = extractors.get(versioned)
    _check_options(versioned, factory, options)
    frozen = tuple(sorted((key, _hashable(versioned, key, value)) for key, value in options.items()))
    # Keyed on the factory, not the name: a name registered anew (Registry.override) builds anew.
    return _cached_extractor(factory, frozen)


def _check_options(versioned: str, factory: Any, options: Mapping[str, Any]) -> None:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return  # a factory without a signature (a C type): it checks its own options
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    known = [n for n, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"extractor {versioned} has no option {', '.join(map(repr, unknown))}",
            hint=f"its options: {', '.join(known) or '(none)'}",
        )


def _hashable(versioned: str, key: str, value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    try:
        hash(value)
    except TypeError:
        raise ConfigError(
            f"option {key!r} of extractor {versioned} is a {type(value).__name__}",
            hint="give options as text, numbers, booleans or lists of them",
        ) from None
    return value


@functools.lru_cache(maxsize=8)
def _cached_extractor(factory: Any, options: tuple[tuple[str, Any], ...]) -> Extractor:
    instance: Extractor = factory(**dict(options))
    return instance


# Written for this purpose: a condition, a negation, a drug with dose/route/frequency, a lab.
_WARM_UP_NOTE = (
    "History of hypertension. No fever.\nMetformin 500 mg orally twice daily.\nHaemoglobin 12.1 g/dL.\n"
)


class Pipeline:
    """The stages of the module docstring around one extractor (build once, run on many notes)."""

    def __init__(
        self,
        extractor: Extractor,
        *,
        min_confidence: float = 0.0,
        calibration: str | Path | Calibrator | None = "default",
        linker: str | Path | LearnedLinker | None = None,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(
                f"min_confidence is {min_confidence}, not a number in 0..1",
                hint="give a threshold between 0 (keep everything) and 1",
            )
        self.extractor = extractor
        self.min_confidence = min_confidence
        self.declaration: Declaration = declared(extractor)
        # Imported here: numpy is not needed to import clinex.
        from clinex.calibration.calibrator import resolve as resolve_calibration

        self.calibration = resolve_calibration(calibration, extractor.name, self.declaration.provenance)
        self.linker = _linker(linker, self.declaration.retrievers.get("icd10cm"))

    def __call__(self, text: str, *, id: str = "note", patient: dict[str, Any] | None = None) -> Document:
        """One note through every stage."""
        _check_note(text, id)
        found, stats = self._extract(text)
        return self.finish(NoteInput(text, id, patient), found, stats=stats)

    def warm_up(self) -> None:
        """Run every stage once on a short built-in note, so that what loads lazily (the
        extractor's model, terminology indexes, assertion rules) loads now and not inside the
        first real note's time: a batch worker calls it when it starts."""
        self.run_many([NoteInput(_WARM_UP_NOTE, "warm-up")])

    def run_many(self, notes: Sequence[NoteInput]) -> list[Document | ClinexError]:
        """Several notes (batched for an extractor that :class:`SupportsBatch`): a Document or
        the error per note, in order, so one bad note never costs the others."""
        results: list[Document | ClinexError | None] = [None] * len(notes)
        ready = []
        for i, note in enumerate(notes):
            try:
                _check_note(note.text, note.id)
                ready.append(i)
            except ClinexError as exc:
                results[i] = exc
        raw: list[Sequence[Entity] | None] = [None] * len(notes)
        if isinstance(self.extractor, SupportsBatch) and len(ready) > 1:
            try:
                batches = self.extractor.extract_batch([notes[i].text for i in ready])
                for i, entities in zip(ready, batches, strict=True):
                    raw[i] = entities
            except Exception:
                log.warning(
                    "extractor %s failed on a batch of %d notes: retrying one by one",
                    self.extractor.name,
                    len(ready),
                )
        for i in ready:
            try:
                batched = raw[i]
                found, stats = (batched, None) if batched is not None else self._extract(notes[i].text)
                results[i] = self.finish(notes[i], found, stats=stats)
            except ClinexError as exc:
                results[i] = exc
            except Exception as exc:
                # A bug, not bad input: name the note and the exception type only (its message
                # may quote the note).
                results[i] = InternalError(
                    f"extractor {self.extractor.name} failed on note {notes[i].id!r} ({type(exc).__name__})",
                    hint="this is a bug; please report it with the extractor name and exception type",
                )
        return [r for r in results if r is not None]

    def _extract(self, text: str) -> tuple[list[Entity], dict[str, int] | None]:
        """Stage 1, and the extractor's counters for this note where it keeps them
        (``note_stats()``: the llm extractor's windows, failed windows, repairs ...)."""
        found = self.extractor.extract(text)
        note_stats = getattr(self.extractor, "note_stats", None)
        return found, (note_stats() if callable(note_stats) else None)

    def finish(
        self, note: NoteInput, found: Sequence[Entity], *, stats: Mapping[str, int] | None = None
    ) -> Document:
        """Stages 2–7 for the entities an extractor found in ``note``; ``stats``, the extractor's
        counters for it, go into ``meta["extractor_stats"]``."""
        text = note.text
        entities = check_grounding(found, text, self.extractor.name)
        if "assertion" not in self.declaration.assigns and self.declaration.assertion_layer != "off":
            entities = _asserted(text, entities, learned=self.declaration.assertion_layer == "learned")
        from clinex.terminology.normalise import normalise

        entities = normalise(entities, text, retrievers=self.declaration.retrievers, linker=self.linker)
        if self.calibration is not None:
            entities = self.calibration[1].apply(entities)
        entities = [e for e in merge_duplicates(entities) if e.confidence >= self.min_confidence]
        log.debug("note %s: %d entities from %s", note.id, len(entities), self.extractor.name)
        meta = dict(self.provenance())
        if self.min_confidence:
            meta["min_confidence"] = self.min_confidence
        if stats:
            meta["extractor_stats"] = dict(stats)
        doc = Document(text=text, id=note.id, entities=entities, patient=note.patient, meta=meta)
        from clinex.plausibility import run_checks

        meta["checks"] = [finding.to_dict() for finding in run_checks(doc)]  # stage 7: plausibility
        return doc

    @functools.cached_property
    def _provenance(self) -> dict[str, Any]:
        from clinex.terminology import versions

        assertion: dict[str, Any]
        if "assertion" in self.declaration.assigns:
            assertion = {"by": "extractor"}
        else:
            assertion = {"by": "pipeline", "layer": self.declaration.assertion_layer}
            if self.declaration.assertion_layer == "learned":
                assertion["model_sha256"] = _assertion_model_digest()
        provenance = {
            "extractor": self.extractor.name,
            "model": dict(self.declaration.provenance),
            "assertion": assertion,
            "terminologies": dict(versions()),
            "clinex_version": _clinex_version(),
        }
        if self.linker is not None:
            provenance["linker"] = self.linker.provenance()
        if self.calibration is not None:
            source, calibrator = self.calibration
            provenance["calibration"] = calibrator.provenance(source)
        return provenance

    def provenance(self) -> dict[str, Any]:
        """What produced this pipeline's Documents: extractor name, its model (name, version,
        checksum, prompt version, as it declares them), the assertion layer and its model's
        digest, the terminology versions and the learned linker's digest and sources (absent
        without one), the clinex version, and the calibrator applied to the confidences (absent
        when they are raw)."""
        return self._provenance


def check_grounding(entities: Sequence[Entity], text: str, extractor: str) -> list[Entity]:
    """``entities`` unchanged if every grounded one reproduces its text, else InternalError."""
    bad = sum(1 for e in entities if e.grounded and not e.is_grounded_in(text))
    if bad:
        # A bug in an extractor, never the user's fault: name counts, never text.
        raise InternalError(
            f"extractor {extractor} returned {bad} of {len(entities)} entities whose span does not "
            "match their text",
            hint="an extractor must return spans with note[start:end] == text, or alignment 'none'",
        )
    return list(entities)


def merge_duplicates(entities: Iterable[Entity]) -> list[Entity]:
    """Keep one entity per (type, span, text), the most confident; order by position."""
    best: dict[tuple[Any, ...], Entity] = {}
    for entity in entities:
        key = (entity.type, entity.start, entity.end, entity.text.lower())
        if key not in best or entity.confidence > best[key].confidence:
            best[key] = entity
    return sorted(best.values(), key=lambda e: (e.start if e.start is not None else 1 << 62, e.end or 0))


def extract(
    text: str,
    *,
    extractor: str | Extractor | None = None,
    id: str = "note",
    patient: dict[str, Any] | None = None,
    min_confidence: float = 0.0,
    calibration: str | Path | Calibrator | None = "default",
    linker: str | Path | LearnedLinker | None = None,
) -> Document:
    """Extract grounded, asserted and coded entities from one clinical note.

    Args:
        text: The note.
        extractor: A registry name (default: :data:`DEFAULT_EXTRACTOR`) or an instance.
        id: The note's id, kept in the Document and its FHIR Bundle.
        patient: A FHIR Patient resource the note is about (else the Bundle has a placeholder).
        min_confidence: Entities less confident than this (after coding and calibration) are
            left out: more precision for less recall (the README has the measured trade-off).
        calibration: ``"default"`` maps confidences through the calibrator shipped for this
            extractor and model (probability that the fact is correct; raw where none was
            fitted for it), ``"none"`` keeps them raw, or a calibrator file or instance
            (``clinex calibrate``).
        linker: A code linker learned from the hospital's coded notes (a file from
            :func:`clinex.terminology.learned.build_linker`, or an instance): its code replaces
            the terminology's where its evidence is stronger. None (default): terminology only.

    Returns:
        The Document, its ``meta`` holding the provenance of the result.

    Raises:
        InputError: the note is not text; EmptyNoteError: it is empty.
        ConfigError: an unknown extractor, a threshold outside 0..1, a calibrator fitted for
            another extractor or model, or a linker file that is missing or not one.
        InternalError: the extractor returned a span that is not its text (a bug).
    """
    pipeline = Pipeline(
        _engine(extractor), min_confidence=min_confidence, calibration=calibration, linker=linker
    )
    return pipeline(text, id=id, patient=patient)


def extract_many(
    notes: Iterable[str | NoteInput | Mapping[str, Any]],
    *,
    extractor: str | Extractor | None = None,
    min_confidence: float = 0.0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    calibration: str | Path | Calibrator | None = "default",
    linker: str | Path | LearnedLinker | None = None,
) -> Iterator[Document]:
    """Extract from many notes, one Document per note, in order (lazily).

    Args:
        notes: Note texts (ids ``note-1``, ``note-2``, ...), :class:`NoteInput` objects, or
            mappings with ``text`` and optional ``id`` and ``patient`` (a JSONL record).
        extractor, min_confidence, calibration, linker: as in :func:`extract`.
        batch_size: notes given to the extractor at once where it takes several (the encoder).

    Raises:
        The first note's error as :func:`extract` raises it, after the notes before it were
        yielded. For a batch that must go on past bad notes, use ``clinex extract`` or
        :func:`clinex.batch.run_batch`.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size is {batch_size}", hint="give a batch size of at least 1")
    pipeline = Pipeline(
        _engine(extractor), min_confidence=min_confidence, calibration=calibration, linker=linker
    )
    batch: list[NoteInput] = []
    for number, note in enumerate(notes, start=1):
        batch.append(_note_input(note, number))
        if len(batch) == batch_size:
            yield from _raising(pipeline.run_many(batch))
            batch = []
    if batch:
        yield from _raising(pipeline.run_many(batch))


def _raising(results: Iterable[Document | ClinexError]) -> Iterator[Document]:
    for result in results:
        if isinstance(result, ClinexError):
            raise result
        yield result


def _note_input(note: str | NoteInput | Mapping[str, Any], number: int) -> NoteInput:
    if isinstance(note, NoteInput):
        return note
    if isinstance(note, str):
        return NoteInput(note, f"note-{number}")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        return NoteInput(note["text"], str(note.get("id", f"note-{number}")), note.get("patient"))
    raise InputError(
        f"note {number} is a {type(note).__name__}, not text or a record with 'text'",
        hint='give strings, NoteInput objects or {"id": ..., "text": ...} mappings',
    )


def _linker(linker: str | Path | LearnedLinker | None, retriever: Any) -> LearnedLinker | None:
    """The linker to code with; a file is loaded, searching neighbours with the embedder the
    extractor's ICD-10-CM retriever offers (``embed``), where it has one and the file embeddings."""
    if linker is None or (isinstance(linker, str) and linker.lower() == "none"):
        return None
    from clinex.terminology.learned import LearnedLinker, load_linker

    embed = getattr(retriever, "embed", None)
    if isinstance(linker, LearnedLinker):
        return linker if linker.searches_neighbours or embed is None else linker.with_embedder(embed)
    return load_linker(linker, embed=embed)


def _engine(extractor: str | Extractor | None) -> Extractor:
    return extractor if isinstance(extractor, Extractor) else load_extractor(extractor)


def _check_note(text: Any, note_id: str) -> None:
    if not isinstance(text, str):
        raise InputError(
            f"note {note_id!r} is {type(text).__name__}, not text", hint="decode the file as UTF-8 first"
        )
    if not text.strip():
        raise EmptyNoteError(f"note {note_id!r} is empty", hint="give a note with text in it")


def _asserted(text: str, entities: list[Entity], *, learned: bool) -> list[Entity]:
    if not any(e.grounded for e in entities):
        return entities
    from clinex.assertion.assertor import assert_entities
    from clinex.text.structure import prepare

    return assert_entities(text, entities, learned=learned, structure=prepare(text))


@functools.cache
def _assertion_model_digest() -> str:
    from importlib import resources

    data = (resources.files("clinex.assertion") / "data" / "assertion_model.json").read_bytes()
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _clinex_version() -> str:
    try:
        return metadata.version("clinex")
    except metadata.PackageNotFoundError:
        return "unknown"

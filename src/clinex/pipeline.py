"""The extraction pipeline: note → extractor → normalise (codes, UCUM) → Document."""

from __future__ import annotations

import functools
import logging
from typing import Any

from clinex.core.errors import ConfigError, EmptyNoteError, InputError
from clinex.core.extractor import Extractor
from clinex.core.registry import extractors
from clinex.core.types import Document, Entity
from clinex.terminology.normalise import normalise

log = logging.getLogger("clinex")

#: The extractor used when none is named: the fine-tuned encoder shipped in the package.
DEFAULT_EXTRACTOR = "encoder"


def load_extractor(name: str | None = None, **options: Any) -> Extractor:
    """An extractor instance by registry name (``"rules"``, ``"encoder.v1"``, ...).

    Instances are cached per name and options, since loading a model or a lexicon is slow.
    """
    versioned = extractors.resolve(name or DEFAULT_EXTRACTOR)
    return _cached_extractor(versioned, tuple(sorted(options.items())))


@functools.lru_cache(maxsize=8)
def _cached_extractor(versioned: str, options: tuple[tuple[str, Any], ...]) -> Extractor:
    factory = extractors.get(versioned)
    instance: Extractor = factory(**dict(options))
    return instance


def extract(
    text: str,
    *,
    extractor: str | Extractor | None = None,
    id: str = "note",
    patient: dict[str, Any] | None = None,
    min_confidence: float = 0.0,
) -> Document:
    """Extract grounded, asserted and coded entities from one clinical note.

    ``extractor`` is a registry name (default: :data:`DEFAULT_EXTRACTOR`) or an instance.
    Entities whose confidence (after coding) is below ``min_confidence`` are left out: more
    precision for less recall (the README has the measured trade-off).
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(
            f"min_confidence is {min_confidence}, not a number in 0..1",
            hint="give a threshold between 0 (keep everything) and 1",
        )
    if not isinstance(text, str):
        raise InputError(
            f"note {id!r} is {type(text).__name__}, not text", hint="decode the file as UTF-8 first"
        )
    if not text.strip():
        raise EmptyNoteError(f"note {id!r} is empty", hint="give a note with text in it")
    engine = extractor if isinstance(extractor, Extractor) else load_extractor(extractor)
    entities = _merge_duplicates(normalise(engine.extract(text), text))
    bad = [e for e in entities if e.grounded and not e.is_grounded_in(text)]
    if bad:
        # A bug in an extractor, never the user's fault: name counts and types, never text.
        raise RuntimeError(
            f"extractor {engine.name} returned {len(bad)} entities whose span does not match their text"
        )
    entities = [e for e in entities if e.confidence >= min_confidence]
    log.debug("note %s: %d entities from %s", id, len(entities), engine.name)
    meta: dict[str, Any] = {"extractor": engine.name}
    if min_confidence:
        meta["min_confidence"] = min_confidence
    return Document(text=text, id=id, entities=entities, patient=patient, meta=meta)


def _merge_duplicates(entities: list[Entity]) -> list[Entity]:
    """Keep one entity per (type, span, text), the most confident; order by position."""
    best: dict[tuple[Any, ...], Entity] = {}
    for entity in entities:
        key = (entity.type, entity.start, entity.end, entity.text.lower())
        if key not in best or entity.confidence > best[key].confidence:
            best[key] = entity
    return sorted(best.values(), key=lambda e: (e.start if e.start is not None else 1 << 62, e.end or 0))

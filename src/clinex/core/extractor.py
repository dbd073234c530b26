"""The interface every extractor implements, and what it may declare to the pipeline.

An extractor finds entities and grounds them; the pipeline (:mod:`clinex.pipeline`) runs the
other stages (grounding check, assertion, normalisation) for every extractor alike. What an
extractor may declare, each optional (read with :func:`declared`):

- ``assigns``: the stages of :data:`ASSIGNABLE` it does itself (an LLM that writes its own
  assertion flags), which the pipeline then skips;
- ``assertion_layer``: the assertion the pipeline runs for it, one of :data:`ASSERTION_LAYERS`
  (default ``"learned"``); flags the extractor already set are kept either way;
- ``retrievers``: terminology name → a code search the normaliser may use where lookup finds
  nothing (the encoder's MiniLM index; see :class:`clinex.terminology.coding.Retriever`);
- ``provenance()``: what produced the entities (model, version, checksum, prompt version),
  recorded in ``Document.meta`` and the FHIR Bundle.

An extractor that can take several notes at once (:class:`SupportsBatch`) gets them so from
:func:`clinex.extract_many` and the batch engines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from clinex.core.errors import ConfigError
from clinex.core.types import Entity

#: Stages an extractor may do itself instead of the pipeline.
ASSIGNABLE: frozenset[str] = frozenset({"assertion"})
#: Assertion the pipeline can run: ConText + sections + the learned layer, ConText + sections
#: only, or none.
ASSERTION_LAYERS: tuple[str, ...] = ("learned", "context", "off")


@runtime_checkable
class Extractor(Protocol):
    """Turns a note into grounded entities.

    Implementations return entities whose spans satisfy ``note[start:end] == text`` (or have
    ``alignment == "none"``). Assertion flags and codes may be left to the pipeline.
    """

    #: The versioned registry name, e.g. ``"rules.v2"``; recorded in ``Document.meta``.
    name: str

    def extract(self, text: str) -> list[Entity]: ...


@runtime_checkable
class SupportsBatch(Protocol):
    """An extractor that is faster given several notes at once (their model inputs share batches)."""

    def extract_batch(self, texts: Sequence[str]) -> list[list[Entity]]: ...


@dataclass(frozen=True, slots=True)
class Declaration:
    """What an extractor declared (see the module docstring), checked."""

    assigns: frozenset[str] = frozenset()
    assertion_layer: str = "learned"
    retrievers: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)


def declared(extractor: Extractor) -> Declaration:
    """The checked declaration of ``extractor``; a bad one raises ConfigError naming it."""
    assigns = frozenset(getattr(extractor, "assigns", frozenset()))
    unknown = assigns - ASSIGNABLE
    if unknown:
        raise ConfigError(
            f"extractor {extractor.name} assigns unknown stage(s) {sorted(unknown)}",
            hint=f"an extractor may assign: {', '.join(sorted(ASSIGNABLE))}",
        )
    layer = str(getattr(extractor, "assertion_layer", "learned"))
    if layer not in ASSERTION_LAYERS:
        raise ConfigError(
            f"extractor {extractor.name} asks for assertion layer {layer!r}",
            hint=f"choose one of: {', '.join(ASSERTION_LAYERS)}",
        )
    provenance = getattr(extractor, "provenance", None)
    return Declaration(
        assigns=assigns,
        assertion_layer=layer,
        retrievers=dict(getattr(extractor, "retrievers", None) or {}),
        provenance=dict(provenance()) if callable(provenance) else {},
    )

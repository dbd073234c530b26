"""The interface every extractor implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clinex.core.types import Entity


@runtime_checkable
class Extractor(Protocol):
    """Turns a note into grounded entities.

    Implementations return entities whose spans satisfy ``note[start:end] == text`` (or have
    ``alignment == "none"``), with assertion flags set; codes may be left to the normaliser.
    """

    #: The versioned registry name, e.g. ``"rules.v1"``; recorded in ``Document.meta``.
    name: str

    def extract(self, text: str) -> list[Entity]: ...

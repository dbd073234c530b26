"""The seam between ``clinex extract`` and whatever runs a streaming batch: an :class:`Engine`
is found by name in the ``engines`` registry (``local``; a plugin may add one through the
``clinex.engines`` entry-point group).

An engine reads :mod:`clinex.inputs` items, extracts with the extractor named (loading it where
the work runs: once per process or actor), writes every Document through the
:class:`~clinex.batch.writers.Writer` and yields one :class:`NoteOutcome` per item, in input
order, with the semantics of :mod:`clinex.batch.process` (duplicate ids, resume, per-note
errors, no note text in any message). It loads the extractor before it returns, so a bad name,
option or model is raised at once, before any note is read further.

The Ray engine (``--engine ray``, :mod:`clinex.batch.ray`) is not one of these: it writes a
directory of partitions from many workers, not one output through a Writer, so it has its own
entry point, :func:`clinex.batch.ray.extract_on_ray`, over the same per-note unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from clinex.batch.outcome import NoteOutcome
from clinex.batch.writers import Writer
from clinex.core.extractor import Extractor
from clinex.core.registry import engines
from clinex.inputs import InputItem

#: The engine ``clinex extract`` uses unless ``--engine`` names another.
DEFAULT_ENGINE = "local"


class Engine(Protocol):
    def __call__(
        self,
        items: Iterable[InputItem],
        extractor: str | Extractor | None,
        writer: Writer,
        *,
        options: Mapping[str, Any] | None = None,
        resume: bool = False,
        min_confidence: float = 0.0,
        calibration: str | None = "default",
        linker: str | None = None,
        batch_size: int = ...,
        max_chars: int | None = ...,
    ) -> Iterator[NoteOutcome]: ...


def get_engine(name: str | None = None) -> Engine:
    """The engine registered as ``name`` (``"local"``, ``"local.v1"``, ...); UnknownNameError if none."""
    engine: Engine = engines.get(name or DEFAULT_ENGINE)
    return engine

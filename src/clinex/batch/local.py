"""The local engine: every note in this process, written as it is done (``--engine local``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from clinex.batch.outcome import NoteOutcome
from clinex.batch.process import DEFAULT_MAX_CHARS, process_items
from clinex.batch.writers import Writer
from clinex.core.errors import ClinexError, ConfigError
from clinex.core.extractor import Extractor
from clinex.inputs import InputItem
from clinex.pipeline import DEFAULT_BATCH_SIZE, Pipeline, load_extractor


def run_batch(
    items: Iterable[InputItem],
    extractor: str | Extractor | None,
    writer: Writer,
    *,
    options: Mapping[str, Any] | None = None,
    resume: bool = False,
    min_confidence: float = 0.0,
    calibration: str | None = "default",
    linker: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int | None = DEFAULT_MAX_CHARS,
) -> Iterator[NoteOutcome]:
    """Extract every record, write each result, and yield one outcome per record, in order.

    Args:
        items: What :func:`clinex.inputs.read_inputs` read.
        extractor: An instance, or a registry name (default extractor if None) loaded here
            with ``options`` (e.g. ``{"model": PATH}``).
        writer: Where Documents go (:func:`clinex.batch.open_writer`).
        resume: Skip notes the writer already holds.
        min_confidence, calibration, linker: As in :func:`clinex.extract`.
        batch_size: Notes given to the extractor at once where it takes several (the encoder).
        max_chars: A longer note is an error outcome (NoteTooLargeError); None: no limit.

    The extractor is loaded before this returns: an unknown name or option, or a missing model,
    raises here (ConfigError, ModelError). A note that fails becomes an error outcome and the
    batch goes on; ClinexError is raised during iteration only when the output cannot be
    written at all (disk full, permissions), after what was written is flushed.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size is {batch_size}", hint="give a batch size of at least 1")
    pipeline = Pipeline(
        _loaded(extractor, options or {}),
        min_confidence=min_confidence,
        calibration=calibration,
        linker=linker,
    )
    outcomes = process_items(
        items, pipeline, done=writer.done if resume else None, batch_size=batch_size, max_chars=max_chars
    )
    return _written(outcomes, writer)


def _loaded(extractor: str | Extractor | None, options: Mapping[str, Any]) -> Extractor:
    if not isinstance(extractor, Extractor):
        return load_extractor(extractor, **options)
    if options:
        raise ConfigError(
            f"options {', '.join(map(repr, sorted(options)))} given with an extractor instance",
            hint="give options when the extractor is named, or build the instance with them",
        )
    return extractor


def _written(outcomes: Iterable[NoteOutcome], writer: Writer) -> Iterator[NoteOutcome]:
    for outcome in outcomes:
        if outcome.document is not None:
            try:
                writer.write(outcome.document)
            except ClinexError as exc:
                outcome = replace(outcome, document=None, error=exc)
            except OSError as exc:
                # The output cannot take more (disk full, permissions): stop; what was written stays.
                raise ConfigError(
                    f"cannot write the output {writer.destination} ({exc.strerror or type(exc).__name__})",
                    hint="free space or fix permissions, then run again with --resume",
                ) from None
        yield outcome

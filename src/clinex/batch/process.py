"""The unit of batch work, the same for every engine: input records in, one outcome each out.

- :func:`triage` sorts what :mod:`clinex.inputs` read into notes to extract and outcomes that
  need no extraction: an unreadable record (its input error), a duplicate id (the first note
  with an id wins), a note over an engine's size limit and, on resume, a note already in the
  output (skipped).
- :func:`process_notes` runs a :class:`~clinex.pipeline.Pipeline` over several notes at once,
  batched through the extractor's ``extract_batch`` where it has one (the encoder); one bad
  note costs only itself. It holds no state, so a distributed engine maps it over partitions.
- :func:`process_items` chains the two for one process, outcomes in input order.

Outcomes name records and ids, never note text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from clinex.batch.outcome import NoteOutcome
from clinex.core.errors import ClinexError, InputError, NoteTooLargeError
from clinex.inputs import InputItem, InputProblem, NoteRecord
from clinex.pipeline import DEFAULT_BATCH_SIZE, NoteInput, Pipeline

#: ``done(note_id)``: whether a note is already in the output (for resuming).
Done = Callable[[str], bool]
#: The longest note (characters) a batch engine takes by default: 5 M characters is ~2,500
#: pages and holds a worker ~10 minutes (2 MB took 3.7 min on 2 cores), so a longer one is more
#: likely a concatenation or a dump than a note.
DEFAULT_MAX_CHARS = 5_000_000


def triage(
    items: Iterable[InputItem], *, done: Done | None = None, max_chars: int | None = None
) -> Iterator[NoteRecord | NoteOutcome]:
    """Each item as a record to extract from, or as its outcome where it needs no extraction;
    a note longer than ``max_chars`` characters (where given) is an error outcome."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, InputProblem):
            yield NoteOutcome(source=item.source, error=item.error)
        elif item.id in seen:
            duplicate = InputError(
                f"{item.source}: duplicate note id {item.id!r}", hint="give every note its own id"
            )
            yield NoteOutcome(source=item.source, id=item.id, error=duplicate)
        else:
            seen.add(item.id)
            if max_chars is not None and len(item.text) > max_chars:
                yield _too_large(item, max_chars)
            elif done is not None and done(item.id):
                yield NoteOutcome(source=item.source, id=item.id, skipped=True)
            else:
                yield item


def _too_large(item: NoteRecord, max_chars: int) -> NoteOutcome:
    error = NoteTooLargeError(
        f"{item.source}: note {item.id!r} has {len(item.text):,} characters, over the limit of {max_chars:,}",
        hint="split the note, or raise the limit (--max-chars)",
    )
    return NoteOutcome(source=item.source, id=item.id, error=error)


def process_notes(records: Sequence[NoteRecord], pipeline: Pipeline) -> list[NoteOutcome]:
    """One outcome per record, in order: its Document, or the error that note met."""
    results = pipeline.run_many([NoteInput(r.text, r.id, r.patient) for r in records])
    return [
        NoteOutcome(source=record.source, id=record.id, error=result)
        if isinstance(result, ClinexError)
        else NoteOutcome(source=record.source, id=record.id, document=result)
        for record, result in zip(records, results, strict=True)
    ]


def process_items(
    items: Iterable[InputItem],
    pipeline: Pipeline,
    *,
    done: Done | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int | None = DEFAULT_MAX_CHARS,
) -> Iterator[NoteOutcome]:
    """Every item's outcome, in input order, notes extracted ``batch_size`` at a time."""
    pending: list[NoteRecord | NoteOutcome] = []
    waiting = 0
    for entry in triage(items, done=done, max_chars=max_chars):
        pending.append(entry)
        if isinstance(entry, NoteRecord):
            waiting += 1
        if waiting == batch_size or not waiting:
            yield from _settled(pending, pipeline)
            pending, waiting = [], 0
    yield from _settled(pending, pipeline)


def _settled(pending: list[NoteRecord | NoteOutcome], pipeline: Pipeline) -> list[NoteOutcome]:
    records = [entry for entry in pending if isinstance(entry, NoteRecord)]
    outcomes = iter(process_notes(records, pipeline) if records else [])
    return [next(outcomes) if isinstance(entry, NoteRecord) else entry for entry in pending]

"""Batch extraction: notes in, one result per note out, written as they are done.

:func:`run_batch` runs an extractor over :mod:`clinex.inputs` records and writes each Document
through a :class:`Writer`; a failing note becomes an error outcome and the batch goes on.
:func:`open_writer` picks the output form:

==========  ===========  ==========================================================
format      notes        output
==========  ===========  ==========================================================
``fhir``    one          a Bundle (pretty JSON) to ``-o FILE``, or stdout; into
                         ``-o DIR/<id>.fhir.json`` if ``-o`` is an existing directory
``fhir``    several      ``-o DIR``: one ``<id>.fhir.json`` per note (DIR is created);
                         ``-o FILE.ndjson`` or stdout: one Bundle per line (NDJSON)
``jsonl``   any          one ``{"id", "entities"}`` line per note to ``-o FILE`` or stdout
==========  ===========  ==========================================================

With ``resume=True`` notes already in the output are skipped (by id for JSONL/NDJSON, by file
for a directory) and new results are appended; a line cut off by an interrupted run is dropped.
Files are written whole (temporary file, then rename), so an interrupted run leaves no half file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from clinex.core.errors import ClinexError, ConfigError, InputError
from clinex.core.extractor import Extractor
from clinex.core.serialize import document_to_record
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES, Document
from clinex.fhir.bundle import document_to_bundle
from clinex.fhir.extensions import NOTE_ID_SYSTEM
from clinex.fhir.validate import validate_bundle
from clinex.inputs import InputItem, InputProblem
from clinex.pipeline import extract

FORMATS = ("fhir", "jsonl")
_IdOf = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class NoteOutcome:
    """What happened to one input record: a Document written, an error, or skipped on resume."""

    source: str
    id: str | None = None
    document: Document | None = None
    error: ClinexError | None = None
    skipped: bool = False


@dataclass(slots=True)
class BatchSummary:
    """Counts over a batch: notes ok/failed/skipped, entities per type, assertion flags."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    assertions: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: NoteOutcome) -> None:
        if outcome.skipped:
            self.skipped += 1
        elif outcome.error is not None or outcome.document is None:
            self.failed += 1
        else:
            self.ok += 1
            for entity in outcome.document.entities:
                self.entities[entity.type] += 1
                flags = entity.assertion.names()
                for flag in flags or ["affirmed"]:
                    self.assertions[flag] += 1

    def entity_rows(self) -> list[tuple[str, int]]:
        return [(name, self.entities[name]) for name in ENTITY_TYPES]

    def assertion_rows(self) -> list[tuple[str, int]]:
        return [(name, self.assertions[name]) for name in ("affirmed", *ASSERTION_FLAGS)]


class Writer(Protocol):
    def done(self, note_id: str) -> bool:
        """Whether ``note_id`` is already in the output (for resuming)."""
        ...

    def write(self, doc: Document) -> None: ...

    def close(self) -> None: ...


def run_batch(
    items: Iterable[InputItem],
    extractor: Extractor,
    writer: Writer,
    *,
    resume: bool = False,
    min_confidence: float = 0.0,
) -> Iterator[NoteOutcome]:
    """Extract every record, write each result, and yield one outcome per record
    (``min_confidence`` as in :func:`clinex.extract`).

    Raises ClinexError only when the output cannot be written at all.
    """
    seen: set[str] = set()
    for item in items:
        if isinstance(item, InputProblem):
            yield NoteOutcome(source=item.source, error=item.error)
            continue
        if item.id in seen:
            duplicate = InputError(
                f"{item.source}: duplicate note id {item.id!r}", hint="give every note its own id"
            )
            yield NoteOutcome(source=item.source, id=item.id, error=duplicate)
            continue
        seen.add(item.id)
        if resume and writer.done(item.id):
            yield NoteOutcome(source=item.source, id=item.id, skipped=True)
            continue
        try:
            doc = extract(
                item.text,
                extractor=extractor,
                id=item.id,
                patient=item.patient,
                min_confidence=min_confidence,
            )
            writer.write(doc)
        except ClinexError as exc:
            yield NoteOutcome(source=item.source, id=item.id, error=exc)
            continue
        except OSError as exc:
            # The output cannot take more (disk full, permissions): stop, what was written stays.
            raise ClinexError(
                f"cannot write the output ({exc.strerror or type(exc).__name__})",
                hint="free space or fix permissions, then run again with --resume",
            ) from None
        except Exception as exc:
            # A bug, not bad input: keep the batch going, name the note and the exception type
            # only (an exception's message may quote the note).
            error = ClinexError(
                f"{item.source}: extractor {extractor.name} failed on note {item.id!r} ({type(exc).__name__})",
                hint="this is a bug; please report it with the extractor name and exception type",
            )
            yield NoteOutcome(source=item.source, id=item.id, error=error)
            continue
        yield NoteOutcome(source=item.source, id=item.id, document=doc)


def open_writer(
    fmt: str,
    out: Path | None,
    *,
    many: bool,
    stdout: TextIO,
    bundle_type: str = "collection",
    validate: bool = True,
    resume: bool = False,
) -> Writer:
    """The writer for an output format and ``-o`` target (see the module docstring)."""
    try:
        return _open_writer(
            fmt, out, many=many, stdout=stdout, bundle_type=bundle_type, validate=validate, resume=resume
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot open the output {out} ({exc.strerror or type(exc).__name__})",
            hint="give -o a path in a writable directory",
        ) from None


def _open_writer(
    fmt: str, out: Path | None, *, many: bool, stdout: TextIO, bundle_type: str, validate: bool, resume: bool
) -> Writer:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if resume and out is None:
        raise ConfigError("--resume needs an output file or directory", hint="give -o OUT")
    if fmt == "jsonl":
        return _LineWriter(out, stdout, _jsonl_line, resume=resume, id_of=_record_id)
    bundle_of = _BundleMaker(bundle_type=bundle_type, validate=validate)
    if out is not None and (out.is_dir() or (many and out.suffix.lower() != ".ndjson")):
        return _DirectoryWriter(out, bundle_of)
    if many:
        return _LineWriter(
            out, stdout, lambda doc: _compact(bundle_of(doc)), resume=resume, id_of=_bundle_note_id
        )
    return _SingleBundleWriter(out, stdout, bundle_of)


@dataclass(frozen=True, slots=True)
class _BundleMaker:
    bundle_type: str
    validate: bool

    def __call__(self, doc: Document) -> dict[str, Any]:
        bundle = document_to_bundle(doc, bundle_type=self.bundle_type)
        if self.validate:
            validate_bundle(bundle)
        return bundle


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _jsonl_line(doc: Document) -> str:
    return _compact(document_to_record(doc))


def _record_id(record: dict[str, Any]) -> str | None:
    value = record.get("id")
    return str(value) if value is not None else None


def _bundle_note_id(bundle: dict[str, Any]) -> str | None:
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "DocumentReference":
            for identifier in resource.get("identifier") or []:
                if identifier.get("system") == NOTE_ID_SYSTEM:
                    return str(identifier.get("value"))
    return None


class _LineWriter:
    """One JSON value per line, to a file (appended on resume) or a stream."""

    def __init__(
        self,
        out: Path | None,
        stdout: TextIO,
        render: Callable[[Document], str],
        *,
        resume: bool,
        id_of: _IdOf,
    ) -> None:
        self._render = render
        self._done: set[str] = set()
        self._owned = out is not None
        self._stream: TextIO
        if out is None:
            self._stream = stdout
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        if resume and out.exists():
            self._done = _ids_in_lines(out, id_of)
            self._stream = out.open("a", encoding="utf-8")
        else:
            self._stream = out.open("w", encoding="utf-8")

    def done(self, note_id: str) -> bool:
        return note_id in self._done

    def write(self, doc: Document) -> None:
        line = self._render(doc)  # render first: a failing note writes nothing
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()


def _ids_in_lines(path: Path, id_of: _IdOf) -> set[str]:
    """Ids already written; drops a last line an interrupted run left without its newline."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(keep)
        data = data[:keep]
    ids: set[str] = set()
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        note_id = id_of(value) if isinstance(value, dict) else None
        if note_id is not None:
            ids.add(note_id)
    return ids


class _SingleBundleWriter:
    def __init__(self, out: Path | None, stdout: TextIO, bundle_of: _BundleMaker) -> None:
        self._out, self._stdout, self._bundle_of = out, stdout, bundle_of

    def done(self, note_id: str) -> bool:
        return self._out is not None and self._out.exists()

    def write(self, doc: Document) -> None:
        text = json.dumps(self._bundle_of(doc), ensure_ascii=False, indent=2) + "\n"
        if self._out is None:
            self._stdout.write(text)
            self._stdout.flush()
        else:
            _write_atomically(self._out, text)

    def close(self) -> None:
        pass


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _DirectoryWriter:
    """One ``<id>.fhir.json`` per note; ids are made file-name safe, and two ids that would
    share a file name are an error rather than an overwrite."""

    def __init__(self, out: Path, bundle_of: _BundleMaker) -> None:
        if out.exists() and not out.is_dir():
            raise ConfigError(
                f"{out} is a file, but several notes need a directory", hint="give -o DIR or -o FILE.ndjson"
            )
        out.mkdir(parents=True, exist_ok=True)
        self._out, self._bundle_of = out, bundle_of
        self._owners: dict[str, str] = {}

    def path_for(self, note_id: str) -> Path:
        name = _UNSAFE.sub("_", note_id).strip("._") or "note"
        return self._out / f"{name}.fhir.json"

    def done(self, note_id: str) -> bool:
        return self.path_for(note_id).exists()

    def write(self, doc: Document) -> None:
        path = self.path_for(doc.id)
        owner = self._owners.setdefault(path.name, doc.id)
        if owner != doc.id:
            raise InputError(
                f"note ids {owner!r} and {doc.id!r} both map to file {path.name}",
                hint="give notes ids that differ in letters, digits, '.', '_' or '-'",
            )
        _write_atomically(path, json.dumps(self._bundle_of(doc), ensure_ascii=False, indent=2) + "\n")

    def close(self) -> None:
        pass


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

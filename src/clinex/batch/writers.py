"""Batch output: the :class:`Writer` protocol and one writer per output form.

:func:`open_writer` picks the writer for a format and ``-o`` target:

===========  ========  ==========================================================
format       notes     output
===========  ========  ==========================================================
``fhir``     one       a Bundle (pretty JSON) to ``-o FILE``, or stdout; into
                       ``-o DIR/<id>.fhir.json`` if ``-o`` is an existing directory
``fhir``     several   ``-o DIR``: one ``<id>.fhir.json`` per note (DIR is created);
                       ``-o FILE.ndjson`` or stdout: one Bundle per line (NDJSON);
                       any other ``-o FILE.suffix`` is refused (it is not a directory)
``jsonl``    any       one ``{"id", "entities"}`` line per note to ``-o FILE`` or stdout
``csv``      any       one row per fact (:mod:`clinex.batch.tabular`) to ``-o FILE`` or stdout
``parquet``  any       the same rows to ``-o FILE`` (needs ``pyarrow``)
===========  ========  ==========================================================

Every target is checked when the writer is opened, before any model is loaded, but nothing is
created until the first note is written: a run in which no note succeeds leaves no file. With
``resume=True`` notes already in the output are skipped (by id for JSONL/NDJSON, by file for a
directory) and new results are appended; a line cut off by an interrupted run is dropped.
Bundle files and tables are written whole (temporary file, then rename).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from clinex.batch.files import STDOUT, cannot_open, check_writable, write_atomically
from clinex.batch.tabular import open_table_writer
from clinex.core.errors import ConfigError, InputError
from clinex.core.serialize import document_to_record
from clinex.core.types import Document
from clinex.fhir.bundle import document_to_bundle
from clinex.fhir.extensions import NOTE_ID_SYSTEM
from clinex.fhir.validate import validate_bundle
from clinex.inputs import check_patient

FORMATS = ("fhir", "jsonl", "csv", "parquet")
_IdOf = Callable[[dict[str, Any]], str | None]


class Writer(Protocol):
    """Where a batch's Documents go, one :meth:`write` per note."""

    #: Where the output goes, for people: a path, ``DIR/`` or :data:`STDOUT`.
    destination: str

    def done(self, note_id: str) -> bool:
        """Whether ``note_id`` is already in the output (for resuming)."""
        ...

    def write(self, doc: Document) -> None:
        """Write one Document (a ClinexError for this note leaves the output as it was)."""
        ...

    def close(self) -> None: ...


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
    """The writer for an output format and ``-o`` target (see the module docstring).

    Raises ConfigError for a target that cannot take the output, before anything is written.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if resume and out is None:
        raise ConfigError("--resume needs an output file or directory", hint="give -o OUT")
    if fmt in ("csv", "parquet"):
        return open_table_writer(fmt, out, stdout=stdout, resume=resume)
    if fmt == "jsonl":
        return _line_writer(out, stdout, _jsonl_line, resume=resume, id_of=_record_id)
    bundle_of = _BundleMaker(bundle_type=bundle_type, validate=validate)
    if out is not None and (out.is_dir() or (many and out.suffix.lower() != ".ndjson")):
        if not out.is_dir() and out.suffix and not out.exists():
            raise ConfigError(
                f"-o {out} names a file, but several notes give one bundle each",
                hint=f"give -o a directory (e.g. -o {out.with_suffix('')}) for one <id>.fhir.json "
                f"per note, or -o {out.with_suffix('.ndjson')} for one bundle per line",
            )
        check_writable(out, directory=True)
        return _DirectoryWriter(out, bundle_of)
    if many:
        return _line_writer(
            out, stdout, lambda doc: _compact(bundle_of(doc)), resume=resume, id_of=_bundle_note_id
        )
    if out is not None:
        check_writable(out)
    return _SingleBundleWriter(out, stdout, bundle_of)


@dataclass(frozen=True, slots=True)
class _BundleMaker:
    bundle_type: str
    validate: bool

    def __call__(self, doc: Document) -> dict[str, Any]:
        if self.validate and doc.patient is not None:
            check_patient(doc.patient, note_id=doc.id)  # the caller's Patient: a fix for them, not a bug
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


def _line_writer(
    out: Path | None, stdout: TextIO, render: Callable[[Document], str], *, resume: bool, id_of: _IdOf
) -> _LineWriter:
    if out is None:
        return _LineWriter(None, stdout, render, append=False, done=set())
    check_writable(out)
    appending = resume and out.exists()
    try:
        done = _ids_in_lines(out, id_of) if appending else set()
    except OSError as exc:
        raise cannot_open(out, exc) from None
    return _LineWriter(out, stdout, render, append=appending, done=done)


class _LineWriter:
    """One JSON value per line, to a file (appended on resume; opened at the first line) or a stream."""

    def __init__(
        self,
        out: Path | None,
        stdout: TextIO,
        render: Callable[[Document], str],
        *,
        append: bool,
        done: set[str],
    ) -> None:
        self._out, self._render, self._append, self._done = out, render, append, done
        self._stream: TextIO | None = stdout if out is None else None
        self.destination = STDOUT if out is None else str(out)

    def done(self, note_id: str) -> bool:
        return note_id in self._done

    def write(self, doc: Document) -> None:
        line = self._render(doc)  # render first: a failing note writes nothing
        if self._stream is None:
            assert self._out is not None
            self._out.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self._out.open("a" if self._append else "w", encoding="utf-8")
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._out is not None and self._stream is not None:
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


def _pretty(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"


class _SingleBundleWriter:
    def __init__(self, out: Path | None, stdout: TextIO, bundle_of: _BundleMaker) -> None:
        self._out, self._stdout, self._bundle_of = out, stdout, bundle_of
        self.destination = STDOUT if out is None else str(out)

    def done(self, note_id: str) -> bool:
        return self._out is not None and self._out.exists()

    def write(self, doc: Document) -> None:
        text = _pretty(self._bundle_of(doc))
        if self._out is None:
            self._stdout.write(text)
            self._stdout.flush()
        else:
            write_atomically(self._out, text)

    def close(self) -> None:
        pass


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _DirectoryWriter:
    """One ``<id>.fhir.json`` per note; ids are made file-name safe, and two ids that would
    share a file name are an error rather than an overwrite."""

    def __init__(self, out: Path, bundle_of: _BundleMaker) -> None:
        self._out, self._bundle_of = out, bundle_of
        self._owners: dict[str, str] = {}
        self.destination = f"{out}/"

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
        write_atomically(path, _pretty(self._bundle_of(doc)))

    def close(self) -> None:
        pass

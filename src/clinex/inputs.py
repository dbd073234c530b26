"""Reading notes from what a user gives ``clinex extract``: files, directories, JSONL, FHIR, stdin.

Each INPUT is one of:

- a ``.txt`` file — one note, id = the file name without ``.txt``;
- a directory — every ``*.txt`` below it, recursively, in sorted path order; id = the path
  relative to the directory without ``.txt`` (``ward3/note-07``);
- JSONL (``.jsonl``/``.ndjson``) — one ``{"id", "text"}`` object per line (optional ``patient``,
  a FHIR Patient); a line without ``id`` gets ``<file stem>-<line number>``; a line holding a
  FHIR DocumentReference is read as FHIR; blank lines are skipped;
- FHIR JSON (``.json``) — a DocumentReference or a Bundle holding DocumentReferences;
- Parquet (``.parquet``, needs ``pyarrow``) — one note per row, columns ``id``, ``text`` and
  an optional ``patient`` (a FHIR Patient as a JSON string or a struct); read in row groups,
  so a large file is never held whole; a row without ``id`` gets ``<file stem>-<row number>``;
- ``-`` — standard input, sniffed: FHIR JSON, JSONL, or else plain text (id ``stdin``).
  A file with another suffix is sniffed the same way.

Text must be UTF-8 (a byte-order mark is dropped). Other encodings are rejected, not guessed:
output offsets count characters of the decoded text, and a wrong guess (latin-1 accepts any
bytes) would silently turn text into mojibake with shifted meanings; the hint names the
one-line ``iconv`` fix. Line endings are kept as they are, so offsets match the file.

Records are yielded lazily, and a problem with one record is yielded as an
:class:`InputProblem` in its place, so one bad record never stops a batch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from clinex.core.errors import ClinexError, EmptyNoteError, FHIRError, InputError
from clinex.fhir.read import notes_from_fhir
from clinex.fhir.validate import resource_problems

STDIN = "-"
_TEXT_SUFFIXES = {".txt"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_FHIR_SUFFIXES = {".json"}
_PARQUET_SUFFIXES = {".parquet"}
#: Rows read from a Parquet file at a time.
_PARQUET_BATCH = 1024
# A NUL byte in the first block means a binary file (UTF-8 text never holds one; UTF-16 does).
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """One note to extract from; ``source`` names where it came from (file, file:line, ...)."""

    id: str
    text: str
    source: str
    patient: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A record or input that could not be read; ``error`` names the input, never its text."""

    source: str
    error: ClinexError


InputItem = NoteRecord | InputProblem


def read_inputs(inputs: Iterable[str | Path], *, stdin: BinaryIO | None = None) -> Iterator[InputItem]:
    """Every note in ``inputs`` (paths or ``"-"``), in order, or a problem in a bad one's place."""
    for given in inputs:
        name = str(given)
        if name == STDIN:
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield from _sniffed(stream.read(), source="<stdin>", default_id="stdin")
            continue
        path = Path(given)
        if path.is_dir():
            yield from _directory(path)
        elif not path.exists():
            yield InputProblem(name, _missing(name))
        else:
            yield from _file(path, source=name)


def check_inputs(inputs: Iterable[str | Path]) -> None:
    """InputError for the first input path that does not exist: a mistyped path is reported at
    once, before any model is loaded, instead of after (:func:`read_inputs` reports the rest)."""
    for given in inputs:
        name = str(given)
        if name != STDIN and not Path(name).exists():
            raise _missing(name)


def check_rereadable(inputs: Iterable[str | Path]) -> None:
    """InputError unless every input is a file or directory of a known format: for an engine
    that reads its input again when it resumes (standard input cannot be read twice, and an
    unknown suffix would be sniffed anew)."""
    check_inputs(inputs)
    known = _TEXT_SUFFIXES | _JSONL_SUFFIXES | _FHIR_SUFFIXES | _PARQUET_SUFFIXES
    for given in inputs:
        name = str(given)
        if name == STDIN:
            raise InputError(
                "this engine cannot read standard input (a restart must read the same notes again)",
                hint="save the notes to a file and give its path",
            )
        path = Path(name)
        if path.is_file() and path.suffix.lower() not in known:
            raise InputError(
                f"{name}: unknown input format {path.suffix or '(no suffix)'!r}",
                hint="give .txt notes or a directory of them, .jsonl/.ndjson, FHIR .json or .parquet",
            )


def check_patient(patient: Any, *, note_id: str) -> None:
    """FHIRError if the Patient a user gave with a note is not valid FHIR R4; the message names
    the fields and the problem types only (values may be identifying)."""
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        problems = ["patient: resourceType is not 'Patient'"]
    else:
        problems = resource_problems(patient, where="patient")
    if problems:
        raise FHIRError(
            f"note {note_id!r}: the Patient given with it is not valid FHIR R4 ({'; '.join(problems[:3])})",
            hint="fix the Patient resource, or leave it out for a placeholder",
        )


def _missing(name: str) -> InputError:
    return InputError(f"{name}: no such file or directory", hint="check the path and try again")


def _directory(root: Path) -> Iterator[InputItem]:
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _TEXT_SUFFIXES and p.is_file())
    if not files:
        yield InputProblem(
            str(root),
            InputError(f"{root}: no .txt files in this directory", hint="give .txt notes, JSONL or FHIR"),
        )
    for path in files:
        note_id = path.relative_to(root).with_suffix("").as_posix()
        data = _read(path, source=str(path))
        yield (
            data if isinstance(data, InputProblem) else _text_record(data, note_id=note_id, source=str(path))
        )


def _read(path: Path, *, source: str) -> bytes | InputProblem:
    try:
        return path.read_bytes()
    except OSError as exc:
        return InputProblem(
            source, InputError(f"{source}: cannot read ({exc.strerror})", hint="check permissions")
        )


def _file(path: Path, *, source: str) -> Iterator[InputItem]:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        yield from _parquet(path, source=source)
        return
    data = _read(path, source=source)
    if isinstance(data, InputProblem):
        yield data
        return
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        yield _text_record(data, note_id=path.stem, source=source)
    elif suffix in _JSONL_SUFFIXES:
        yield from _jsonl(data, source=source, stem=path.stem)
    elif suffix in _FHIR_SUFFIXES:
        yield from _fhir(data, source=source, default_id=path.stem)
    else:
        yield from _sniffed(data, source=source, default_id=path.stem)


def _sniffed(data: bytes, *, source: str, default_id: str) -> Iterator[InputItem]:
    """FHIR JSON if the whole input is one JSON object with a resourceType, JSONL if it starts
    with ``{``, else one plain-text note."""
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if head == b"{":
        try:
            whole = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            whole = None
        if isinstance(whole, dict) and "resourceType" in whole:
            yield from _fhir(data, source=source, default_id=default_id)
            return
        yield from _jsonl(data, source=source, stem=default_id)
        return
    yield _text_record(data, note_id=default_id, source=source)


def decode_note(data: bytes, *, source: str) -> str:
    """Note bytes → text: UTF-8 (BOM dropped) or an InputError saying why and how to fix it."""
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise InputError(
            f"{source}: binary file, not text",
            hint="give plain-text notes (UTF-8); convert UTF-16 with: iconv -f UTF-16 -t UTF-8",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not valid UTF-8 (first bad byte at offset {exc.start})",
            hint="re-encode it, e.g.: iconv -f WINDOWS-1252 -t UTF-8 IN > OUT",
        ) from None
    return text


def _checked(text: str, *, note_id: str, source: str, patient: dict[str, Any] | None = None) -> InputItem:
    if not text.strip():
        return InputProblem(
            source, EmptyNoteError(f"{source}: note {note_id!r} is empty", hint="give a note with text")
        )
    return NoteRecord(id=note_id, text=text, source=source, patient=patient)


def _text_record(data: bytes, *, note_id: str, source: str) -> InputItem:
    try:
        text = decode_note(data, source=source)
    except InputError as exc:
        return InputProblem(source, exc)
    return _checked(text, note_id=note_id, source=source)


def _fhir(data: bytes, *, source: str, default_id: str) -> Iterator[InputItem]:
    try:
        value = json.loads(decode_note(data, source=source))
    except InputError as exc:
        yield InputProblem(source, exc)
        return
    except ValueError as exc:
        yield InputProblem(
            source, FHIRError(f"{source}: malformed JSON ({_json_reason(exc)})", hint="fix the JSON")
        )
        return
    yield from _fhir_value(value, source=source, default_id=default_id)


def _fhir_value(value: Any, *, source: str, default_id: str) -> Iterator[InputItem]:
    try:
        notes = notes_from_fhir(value, source=source)
    except FHIRError as exc:
        yield InputProblem(source, exc)
        return
    for note in notes:
        if isinstance(note, FHIRError):
            yield InputProblem(source, note)
        else:
            single = note.where == "DocumentReference"
            where = source if single else f"{source} {note.where}"
            # A DocumentReference without id or identifier: name it after its input and place.
            note_id = note.id or (default_id if single else f"{default_id}-{note.where}")
            yield _checked(note.text, note_id=note_id, source=where, patient=note.patient)


def _jsonl(data: bytes, *, source: str, stem: str) -> Iterator[InputItem]:
    try:
        text = decode_note(data, source=source)
    except InputError as exc:
        yield InputProblem(source, exc)
        return
    # Split on newlines only: str.splitlines() would also split inside a JSON string holding U+2028.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield InputProblem(
                where,
                InputError(
                    f"{where}: malformed JSON ({_json_reason(exc)})",
                    hint='each line must be {"id": ..., "text": ...}',
                ),
            )
            continue
        if isinstance(record, dict) and "resourceType" in record:
            yield from _fhir_value(record, source=where, default_id=f"{stem}-{number}")
            continue
        yield _jsonl_record(record, where=where, default_id=f"{stem}-{number}")


def _jsonl_record(record: Any, *, where: str, default_id: str) -> InputItem:
    hint = 'each line must be {"id": ..., "text": ...}'
    if not isinstance(record, dict):
        return InputProblem(where, InputError(f"{where}: not a JSON object", hint=hint))
    text = record.get("text")
    if not isinstance(text, str):
        problem = "has no 'text'" if text is None else "'text' is not a string"
        return InputProblem(where, InputError(f"{where}: record {problem}", hint=hint))
    raw_id = record.get("id", default_id)
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
        return InputProblem(where, InputError(f"{where}: 'id' must be a non-empty string", hint=hint))
    patient = record.get("patient")
    if patient is not None and not (isinstance(patient, dict) and patient.get("resourceType") == "Patient"):
        return InputProblem(
            where, InputError(f"{where}: 'patient' is not a FHIR Patient", hint="omit it or give a Patient")
        )
    return _checked(text, note_id=str(raw_id), source=where, patient=patient)


def _parquet(path: Path, *, source: str) -> Iterator[InputItem]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        hint = "pip install 'clinex[parquet]', or give the notes as JSONL"
        yield InputProblem(source, InputError(f"{source}: reading Parquet needs pyarrow", hint=hint))
        return
    try:
        parquet = pyarrow.parquet.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as exc:
        yield InputProblem(
            source,
            InputError(
                f"{source}: not a readable Parquet file ({type(exc).__name__})", hint="check the file"
            ),
        )
        return
    names = set(parquet.schema_arrow.names)
    if "text" not in names:
        yield InputProblem(
            source,
            InputError(f"{source}: no 'text' column", hint="give columns id, text and optionally patient"),
        )
        return
    columns = [name for name in ("id", "text", "patient") if name in names]
    row = 0
    for batch in parquet.iter_batches(columns=columns, batch_size=_PARQUET_BATCH):
        for record in batch.to_pylist():
            row += 1
            where = f"{source}:row {row}"
            patient = record.get("patient")
            if isinstance(patient, str):
                try:
                    record["patient"] = json.loads(patient)
                except ValueError as exc:
                    hint = "give the Patient as FHIR JSON, or leave it out"
                    problem = InputError(
                        f"{where}: 'patient' is malformed JSON ({_json_reason(exc)})", hint=hint
                    )
                    yield InputProblem(where, problem)
                    continue
            present = {key: value for key, value in record.items() if value is not None}
            yield _jsonl_record(present, where=where, default_id=f"{path.stem}-{row}")


def _json_reason(exc: ValueError) -> str:
    # Only json's reason and position: its full message could quote the input.
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "not JSON"

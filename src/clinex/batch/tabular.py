"""A table for analysts: one row per fact, as CSV (always) or Parquet (with ``pyarrow``).

Columns, in order (:data:`COLUMNS`): ``note_id``, ``type``, ``text``, ``start``, ``end``,
``alignment``, one boolean per assertion flag (``negated`` ... ``hypothetical``),
``code_system``, ``code``, ``code_display``, one column per attribute of the vocabulary
(:data:`clinex.core.types.ATTRIBUTE_NAMES`: ``date``, ``dose``, ``route``, ...), then
``other_attributes`` (a JSON object of any attribute outside it, as a plugin may add; empty
when none) and ``confidence``. A missing value is an empty CSV field or a Parquet null; CSV
booleans are ``true``/``false``. A note without facts has no rows.

Tables are written whole when the batch closes (temporary file, then rename), or streamed as
CSV to standard output; they cannot be resumed (a note without facts leaves no trace to skip).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

from clinex.batch.files import STDOUT, AtomicFile, check_writable
from clinex.core.errors import ConfigError
from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTE_NAMES, Document

COLUMNS: tuple[str, ...] = (
    "note_id",
    "type",
    "text",
    "start",
    "end",
    "alignment",
    *ASSERTION_FLAGS,
    "code_system",
    "code",
    "code_display",
    *ATTRIBUTE_NAMES,
    "other_attributes",
    "confidence",
)
#: The optional dependency group that brings ``pyarrow``: ``pip install 'clinex[parquet]'``.
PARQUET_EXTRA = "parquet"
#: Rows held before they go to the Parquet file as one row group.
_ROW_GROUP = 50_000


def fact_rows(doc: Document) -> list[dict[str, Any]]:
    """One row per entity of ``doc``, keyed by :data:`COLUMNS` (None where there is no value)."""
    rows = []
    for entity in doc.entities:
        code = entity.code
        other = {k: v for k, v in entity.attributes.items() if k not in ATTRIBUTE_NAMES}
        rows.append(
            {
                "note_id": doc.id,
                "type": entity.type,
                "text": entity.text,
                "start": entity.start,
                "end": entity.end,
                "alignment": entity.alignment,
                **{flag: getattr(entity.assertion, flag) for flag in ASSERTION_FLAGS},
                "code_system": code.system if code else None,
                "code": code.code if code else None,
                "code_display": code.display if code else None,
                **{name: entity.attributes.get(name) for name in ATTRIBUTE_NAMES},
                "other_attributes": json.dumps(other, ensure_ascii=False, sort_keys=True) if other else None,
                "confidence": round(entity.confidence, 4),
            }
        )
    return rows


def open_table_writer(
    fmt: str, out: Path | None, *, stdout: TextIO, resume: bool
) -> CsvWriter | ParquetWriter:
    """The writer for ``fmt`` (``csv`` or ``parquet``); ConfigError for what it cannot do."""
    if resume:
        raise ConfigError(
            f"--resume does not work with --format {fmt}",
            hint="run it again without --resume (the table is written anew), or use --format jsonl",
        )
    if out is not None:
        check_writable(out)
    if fmt == "csv":
        return CsvWriter(out, stdout)
    if out is None:
        raise ConfigError(
            "--format parquet needs an output file",
            hint="give -o FILE.parquet, or use --format csv for standard output",
        )
    return ParquetWriter(out)


class CsvWriter:
    """Rows to a CSV file (renamed into place on close) or streamed to standard output."""

    def __init__(self, out: Path | None, stdout: TextIO) -> None:
        self._file = AtomicFile(out) if out is not None else None
        self._stdout = stdout
        self._writer: Any = None  # csv.writer, made at the first note
        self.destination = STDOUT if out is None else str(out)

    def done(self, note_id: str) -> bool:
        return False

    def write(self, doc: Document) -> None:
        rows = [[_csv_value(row[name]) for name in COLUMNS] for row in fact_rows(doc)]
        if self._writer is None:
            stream = self._file.open() if self._file is not None else self._stdout
            self._writer = csv.writer(stream, lineterminator="\n")
            self._writer.writerow(COLUMNS)
        self._writer.writerows(rows)
        if self._file is None:
            self._stdout.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.commit()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class ParquetWriter:
    """Rows to a Parquet file, in row groups, renamed into place on close."""

    def __init__(self, out: Path) -> None:
        try:
            import pyarrow
        except ImportError as exc:  # absent, or built for another numpy
            problem = "is not installed" if isinstance(exc, ModuleNotFoundError) else "cannot be imported"
            raise ConfigError(
                f"--format parquet needs pyarrow, which {problem}",
                hint=f"pip install 'clinex[{PARQUET_EXTRA}]', or use --format csv",
            ) from None
        self._pa = pyarrow
        self._schema = pyarrow.schema([(name, _arrow_type(pyarrow, name)) for name in COLUMNS])
        self._file = AtomicFile(out, binary=True)
        self._writer: Any = None  # pyarrow.parquet.ParquetWriter, made at the first note
        self._rows: list[dict[str, Any]] = []
        self.destination = str(out)

    def done(self, note_id: str) -> bool:
        return False

    def write(self, doc: Document) -> None:
        rows = fact_rows(doc)
        if self._writer is None:
            import pyarrow.parquet

            self._writer = pyarrow.parquet.ParquetWriter(self._file.open(), self._schema)
        self._rows.extend(rows)
        if len(self._rows) >= _ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        if self._writer is None:
            return
        self._flush()
        self._writer.close()
        self._file.commit()


def _arrow_type(pa: Any, column: str) -> Any:
    if column in ("start", "end"):
        return pa.int64()
    if column in ASSERTION_FLAGS:
        return pa.bool_()
    if column == "confidence":
        return pa.float64()
    return pa.string()

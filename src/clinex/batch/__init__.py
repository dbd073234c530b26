"""Batch extraction: notes in, one result per note out, written as they are done.

engine.py    the Engine seam, found by name in the ``engines`` registry (``--engine``)
local.py     run_batch, the local engine
process.py   the unit every engine runs: records → NoteOutcomes (duplicates, resume, errors)
writers.py   the Writer protocol and open_writer: FHIR bundles, NDJSON, JSONL
tabular.py   one row per fact as CSV or Parquet
files.py     writability checks and whole-file writes shared by the writers
outcome.py   NoteOutcome and BatchSummary
ray/         the Ray engine (``--engine ray``): partitions, manifest, exactly-once resume; imported
             only when used (``pip install 'clinex[ray]'``)
"""

from clinex.batch.engine import DEFAULT_ENGINE, Engine, get_engine
from clinex.batch.local import run_batch
from clinex.batch.outcome import BatchSummary, NoteOutcome
from clinex.batch.process import process_notes
from clinex.batch.writers import FORMATS, Writer, open_writer

__all__ = [
    "DEFAULT_ENGINE",
    "FORMATS",
    "BatchSummary",
    "Engine",
    "NoteOutcome",
    "Writer",
    "get_engine",
    "open_writer",
    "process_notes",
    "run_batch",
]

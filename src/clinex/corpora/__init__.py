"""Annotated corpora (gold, predictions, training data) read and written in the formats clinex
knows: clinex JSONL, FHIR Bundles, BRAT standoff, MACCROBAT2020 (BRAT with its own labels),
CodiEsp TSV, NegEx TSV.

Evaluation, training and review all read their documents from here; this package never
imports :mod:`clinex.eval`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from clinex.core.errors import EvaluationError
from clinex.corpora.brat import read_brat, write_brat
from clinex.corpora.codiesp import read_codiesp, write_codiesp
from clinex.corpora.corpus import Corpus
from clinex.corpora.fhir import read_fhir
from clinex.corpora.jsonl import read_jsonl, write_jsonl
from clinex.corpora.maccrobat import looks_like_maccrobat, maccrobat_halves, read_maccrobat
from clinex.corpora.negex import COLUMNS as NEGEX_COLUMNS
from clinex.corpora.negex import NegExRow, read_negex, read_negex_rows, write_negex

_READERS: dict[str, Callable[..., Corpus]] = {
    "jsonl": read_jsonl,
    "fhir": read_fhir,
    "brat": read_brat,
    "maccrobat": read_maccrobat,
    "codiesp": read_codiesp,
    "negex": read_negex,
}
FORMATS: tuple[str, ...] = tuple(_READERS)


def detect_format(path: Path) -> str:
    """The format of ``path`` from its extension, folder contents or first line."""
    if path.is_dir():
        names = [p.name for p in path.iterdir()]
        if any(n.endswith(".ann") for n in names):
            return "maccrobat" if looks_like_maccrobat(path) else "brat"
        if any(n.endswith(("D.tsv", "P.tsv")) for n in names):
            return "codiesp"
        if any(n.endswith(".json") for n in names):
            return "fhir"
    elif path.suffix == ".ann":
        return "maccrobat" if looks_like_maccrobat(path) else "brat"
    elif path.suffix == ".tsv":
        with path.open(encoding="utf-8") as lines:
            header = tuple(lines.readline().rstrip("\n").split("\t"))
        return "negex" if header == NEGEX_COLUMNS else "codiesp"
    elif path.suffix == ".json":
        return "fhir"
    elif path.suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            first_line = next((line for line in lines if line.strip()), "{}")
        try:
            record = json.loads(first_line)
        except json.JSONDecodeError:
            return "jsonl"  # the JSONL reader names the bad line
        return "fhir" if isinstance(record, dict) and record.get("resourceType") == "Bundle" else "jsonl"
    raise EvaluationError(
        f"cannot tell the format of {path.name}",
        hint=f"name it .jsonl/.json/.ann/.tsv, or give its format: one of {', '.join(FORMATS)}",
    )


def read_corpus(path: Path, *, format: str | None = None, text_dir: Path | None = None) -> Corpus:
    """Read gold or predictions in any supported format (detected unless ``format`` is given)."""
    if not path.exists():
        raise EvaluationError(f"{path} does not exist", hint="check the --gold/--pred path")
    chosen = format or detect_format(path)
    reader = _READERS.get(chosen)
    if reader is None:
        raise EvaluationError(f"unknown format {chosen!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    return reader(path, text_dir=text_dir)


__all__ = [
    "FORMATS",
    "Corpus",
    "NegExRow",
    "detect_format",
    "maccrobat_halves",
    "read_brat",
    "read_codiesp",
    "read_corpus",
    "read_fhir",
    "read_jsonl",
    "read_maccrobat",
    "read_negex",
    "read_negex_rows",
    "write_brat",
    "write_codiesp",
    "write_jsonl",
    "write_negex",
]

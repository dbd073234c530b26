"""Terminologies from files: CSV/TSV tables and FHIR CodeSystem JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from clinex.core.errors import TerminologyError
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.base import Concept

_HINT_TABLE = "give a header row 'code,display,synonyms' (synonyms separated by '|')"
_HINT_CODESYSTEM = "give a FHIR CodeSystem with url and concept[].code/display"


def read_table(path: Path) -> list[Concept]:
    """Concepts from a CSV or TSV file with columns code, display and optional synonyms.

    Lines starting with ``#`` are comments. Raises TerminologyError naming the file and line.
    """
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            lines = [(number, line) for number, line in enumerate(fh, 1) if not line.startswith("#")]
    except OSError as exc:
        raise TerminologyError(f"cannot read terminology file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TerminologyError(f"terminology file {path} is not UTF-8", hint="save it as UTF-8") from None
    if not lines:
        raise TerminologyError(f"terminology file {path} is empty", hint=_HINT_TABLE)
    reader = csv.reader([line for _, line in lines], delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    if "code" not in header or "display" not in header:
        raise TerminologyError(
            f"{path}:{lines[0][0]}: header has no 'code' and 'display' columns", hint=_HINT_TABLE
        )
    columns = {name: header.index(name) for name in ("code", "display", "synonyms") if name in header}
    concepts = []
    for (number, _), row in zip(lines[1:], reader, strict=True):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TerminologyError(
                f"{path}:{number}: {len(row)} columns, the header has {len(header)}", hint=_HINT_TABLE
            )
        code, display = row[columns["code"]].strip(), row[columns["display"]].strip()
        if not code or not display:
            raise TerminologyError(f"{path}:{number}: empty code or display", hint=_HINT_TABLE)
        synonyms = row[columns["synonyms"]].split("|") if "synonyms" in columns else []
        concepts.append(Concept(code, display, tuple(s.strip() for s in synonyms if s.strip())))
    return concepts


def read_codesystem(path: Path) -> IndexedTerminology:
    """A terminology from a FHIR CodeSystem resource (nested concepts are flattened)."""
    try:
        resource = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TerminologyError(f"cannot read terminology file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise TerminologyError(f"{where}: not valid JSON", hint=_HINT_CODESYSTEM) from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "CodeSystem":
        raise TerminologyError(f"{path}: resourceType is not 'CodeSystem'", hint=_HINT_CODESYSTEM)
    if not isinstance(resource.get("url"), str):
        raise TerminologyError(f"{path}: CodeSystem has no url", hint=_HINT_CODESYSTEM)
    concepts: list[Concept] = []
    _flatten(resource.get("concept") or [], path, "concept", concepts)
    name = str(resource.get("name") or path.stem)
    return IndexedTerminology(name=name, system=resource["url"], concepts=concepts)


def _flatten(items: Any, path: Path, where: str, out: list[Concept]) -> None:
    if not isinstance(items, list):
        raise TerminologyError(f"{path}: {where} is not a list", hint=_HINT_CODESYSTEM)
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise TerminologyError(f"{path}: {here} has no code", hint=_HINT_CODESYSTEM)
        display = item.get("display") or item["code"]
        synonyms = tuple(
            d["value"] for d in item.get("designation") or [] if isinstance(d, dict) and d.get("value")
        )
        out.append(Concept(item["code"], str(display), synonyms))
        _flatten(item.get("concept") or [], path, f"{here}.concept", out)

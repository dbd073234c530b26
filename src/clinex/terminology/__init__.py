"""Terminologies (ICD-10-CM, LOINC, RxNorm subsets, user files), UCUM units and the
normaliser that codes extracted entities."""

from __future__ import annotations

from pathlib import Path

from clinex.core.errors import TerminologyError, UnknownNameError
from clinex.core.registry import terminologies
from clinex.terminology.base import Concept, Match, Terminology, to_code

__all__ = ["Concept", "Match", "Terminology", "load", "to_code"]


def load(name_or_path: str | Path) -> Terminology:
    """A terminology by registry name (``"icd10cm"``, ``"loinc.v1"``, ...) or from a file.

    Files: CSV/TSV with columns ``code``, ``display`` and optional ``synonyms`` (separated by
    ``|``), or a FHIR CodeSystem ``.json``. Raises TerminologyError for a bad file.
    """
    from clinex.terminology._index import IndexedTerminology
    from clinex.terminology.files import read_codesystem, read_table

    path = Path(name_or_path)
    if isinstance(name_or_path, Path) or path.suffix.lower() in {".csv", ".tsv", ".tab", ".json"}:
        if not path.is_file():
            raise TerminologyError(f"terminology file {path} not found", hint="check the path")
        if path.suffix.lower() == ".json":
            return read_codesystem(path)
        return IndexedTerminology(
            name=path.stem, system=f"urn:clinex:terminology:{path.stem}", concepts=read_table(path)
        )
    try:
        factory = terminologies.get(str(name_or_path))
    except UnknownNameError as exc:
        raise UnknownNameError(
            exc.message, hint=f"{exc.hint}; or give a .csv/.tsv/.json terminology file"
        ) from None
    terminology: Terminology = factory()
    return terminology

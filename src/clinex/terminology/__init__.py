"""Terminologies (ICD-10-CM, LOINC, RxNorm subsets, user files), UCUM units and the
normaliser that codes extracted entities."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from pathlib import Path

from clinex.core.errors import TerminologyError, UnknownNameError
from clinex.core.registry import terminologies
from clinex.terminology.base import Concept, Match, Terminology, to_code

__all__ = ["Concept", "Match", "Terminology", "load", "to_code", "versions"]


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


@functools.cache
def versions() -> dict[str, str]:
    """The version of each packaged terminology (recorded in every Document's provenance):
    ICD-10-CM's package release and the digest of each data file clinex ships."""
    from importlib import metadata

    def digest(*names: str) -> str:
        sha = hashlib.sha256()
        for name in names:
            sha.update((resources.files("clinex.terminology") / "data" / name).read_bytes())
        return f"sha256:{sha.hexdigest()[:16]}"

    return {
        "icd10cm": f"simple-icd-10-cm {metadata.version('simple-icd-10-cm')}, "
        f"clinex synonyms {digest('icd10cm_synonyms.tsv')}",
        "loinc": f"clinex LOINC subset {digest('loinc.tsv', 'loinc_synonyms.tsv')}",
        "rxnorm": f"clinex RxNorm subset {digest('rxnorm.tsv', 'rxnorm_ingredients.tsv')}",
    }

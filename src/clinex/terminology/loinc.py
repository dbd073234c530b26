"""A LOINC subset: the labunits analytes plus the laboratory codes of the Synthea modules,
built into ``data/loinc.tsv`` by ``scripts/build_lexicons.py``."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from clinex.core.systems import LOINC as SYSTEM
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.files import read_table


@functools.cache
def load() -> IndexedTerminology:
    """The packaged LOINC subset (about 220 laboratory codes)."""
    with resources.as_file(resources.files("clinex.terminology") / "data" / "loinc.tsv") as path:
        return IndexedTerminology(name="loinc", system=SYSTEM, concepts=read_table(Path(path)))

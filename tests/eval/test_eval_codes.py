"""Attributes are scored in canonical form: the spellings the synthetic writer uses count as equal."""

from __future__ import annotations

import pytest

from clinex.core.types import Entity
from clinex.eval.categories import CATEGORIES
from clinex.eval.codes import normal_attribute
from clinex.eval.matching import match
from clinex.terminology.attributes import FREQUENCIES, ROUTES

NOTE = "Metformin 500 mg p.o. 1-0-1."


@pytest.mark.parametrize(("route", "spelling"), [(r.name, s) for r in ROUTES for s in r.written])
def test_every_written_route_compares_equal_to_its_canonical_name(route: str, spelling: str) -> None:
    assert normal_attribute("route", spelling) == normal_attribute("route", route)


@pytest.mark.parametrize(
    ("frequency", "spelling"), [(f.name, s) for f in FREQUENCIES for s in (*f.written, *f.schemes)]
)
def test_every_written_frequency_compares_equal_to_its_canonical_name(frequency: str, spelling: str) -> None:
    # A scheme with one morning or evening dose means "every morning"/"every evening".
    canonical = {"1-0-0": "every morning", "0-0-1": "every evening"}.get(spelling, frequency)
    assert normal_attribute("frequency", spelling) == normal_attribute("frequency", canonical)


def test_different_routes_and_frequencies_stay_different() -> None:
    assert normal_attribute("route", "p.o.") != normal_attribute("route", "i.v.")
    assert normal_attribute("frequency", "1-0-1") != normal_attribute("frequency", "tid")
    assert normal_attribute("route", "per rectum daily") == "per rectum daily"  # unknown: as written


def test_route_and_frequency_scores_count_spelling_variants_as_matches() -> None:
    def metformin(route: str, frequency: str) -> Entity:
        attributes = {"dose": "500 mg", "route": route, "frequency": frequency}
        return Entity(type="medication", text="Metformin", start=0, end=9, attributes=attributes)

    gold, pred = [metformin("p.o.", "1-0-1")], [metformin("oral", "twice daily")]
    for name in ("attribute:route", "attribute:frequency"):
        score = match(gold, pred, CATEGORIES[name], "strict").score()
        assert (score.tp, score.fp, score.fn) == (1, 0, 0), name
    wrong = [metformin("i.v.", "three times daily")]
    assert match(gold, wrong, CATEGORIES["attribute:route"], "strict").score().tp == 0

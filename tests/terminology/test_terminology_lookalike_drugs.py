"""No drug is coded as another drug, strength or product, through the default extractor.

The pairs are look-alike and sound-alike names from the ISMP List of Confused Drug Names
(Institute for Safe Medication Practices, 2023 edition, https://www.ismp.org/recommendations/
confused-drug-names-list), written as a discharge medication list with doses; the strength
cases are the wrong-strength and wrong-product codes the review found (REVIEW.md §1.2).
"""

from __future__ import annotations

import re

import pytest

import clinex
from clinex.core.systems import RXNORM
from clinex.core.types import Entity
from clinex.terminology.normalise import normalise

# (as written, the ingredient the code must name, dose written)
CONFUSED_PAIRS: list[tuple[tuple[str, str], tuple[str, str], str]] = [
    (("Prednisolone", "prednisolone"), ("Prednisone", "prednisone"), "20 mg"),
    (("Hydroxyzine", "hydroxyzine"), ("Hydralazine", "hydralazine"), "25 mg"),
    (("Clonidine", "clonidine"), ("Clonazepam", "clonazepam"), "0.5 mg"),
    (("Metformin", "metformin"), ("Metronidazole", "metronidazole"), "500 mg"),
    (("Glipizide", "glipizide"), ("Glyburide", "glyburide"), "5 mg"),
    (("Hydromorphone", "hydromorphone"), ("Morphine", "morphine"), "2 mg"),
    (("Oxycodone", "oxycodone"), ("Hydrocodone", "hydrocodone"), "5 mg"),
    (("Lamotrigine", "lamotrigine"), ("Lamivudine", "lamivudine"), "100 mg"),
    (("Tramadol", "tramadol"), ("Trazodone", "trazodone"), "50 mg"),
    (("Celecoxib", "celecoxib"), ("Citalopram", "citalopram"), "20 mg"),
    (("Sertraline", "sertraline"), ("Cetirizine", "cetirizine"), "10 mg"),
    (("Risperidone", "risperidone"), ("Ropinirole", "ropinirole"), "1 mg"),
    (("Sitagliptin", "sitagliptin"), ("Sumatriptan", "sumatriptan"), "50 mg"),
    (("Chlorpromazine", "chlorpromazine"), ("Chlorpropamide", "chlorpropamide"), "100 mg"),
    (("Carbamazepine", "carbamazepine"), ("Oxcarbazepine", "oxcarbazepine"), "200 mg"),
    (("Clomiphene", "clomiphene"), ("Clomipramine", "clomipramine"), "50 mg"),
    (("Amlodipine", "amlodipine"), ("Amiloride", "amiloride"), "5 mg"),
    (("Methotrexate", "methotrexate"), ("Metolazone", "metolazone"), "2.5 mg"),
    (("Atomoxetine", "atomoxetine"), ("Atorvastatin", "atorvastatin"), "40 mg"),
    (("Tizanidine", "tizanidine"), ("Tiagabine", "tiagabine"), "4 mg"),
    (("Alprazolam", "alprazolam"), ("Lorazepam", "lorazepam"), "1 mg"),
    (("Valacyclovir", "valacyclovir"), ("Valganciclovir", "valganciclovir"), "500 mg"),
]
#: Written drug → ingredient, for the wrong-strength and wrong-product cases of the review.
STRENGTHS: list[tuple[str, str, str, str]] = [
    ("Prednisolone", "prednisolone", "30 mg", "orally once daily"),
    ("Furosemide", "furosemide", "40 mg", "orally once daily"),
    ("Furosemide", "furosemide", "40 mg", "IV twice daily"),
    ("Oxycodone", "oxycodone", "5 mg", "orally every 4 hours as needed"),
    ("Simvastatin", "simvastatin", "20 mg", "orally at night"),
    ("Metformin", "metformin", "1000 mg", "orally twice daily"),
    ("Atorvastatin", "atorvastatin", "40 mg", "orally at night"),
    ("Bisoprolol", "bisoprolol", "2.5 mg", "orally once daily"),
    ("Metoprolol succinate", "metoprolol", "50 mg", "orally once daily"),
    ("Salbutamol inhaler", "albuterol", "100 mcg", "2 puffs as needed"),
    ("Amoxicillin-clavulanate", "amoxicillin", "625 mg", "orally three times daily"),
]
#: Names RxNorm files under another ingredient name.
_SAME = {"salbutamol": "albuterol", "glyburide": "glibenclamide"}
_NAMES = {written.lower(): ingredient for pair in CONFUSED_PAIRS for written, ingredient in pair[:2]}
_NAMES.update({written.lower(): ingredient for written, ingredient, _, _ in STRENGTHS})


def _letter() -> tuple[str, dict[str, str]]:
    lines, doses = ["Medications on discharge:"], {}
    for first, second, dose in CONFUSED_PAIRS:
        for written, _ in (first, second):
            lines.append(f"- {written} {dose} orally once daily")
            doses.setdefault(written.lower(), dose)
    for written, _, dose, rest in STRENGTHS:
        lines.append(f"- {written} {dose} {rest}")
    return "\n".join(lines) + "\n", doses


def _wrong(entity: Entity, note: str) -> str | None:
    """Why the code of a medication entity names another drug or strength, or None if it fits."""
    if entity.code is None:
        return None
    display = (entity.code.display or "").lower()
    line = note[note.rfind("\n", 0, entity.start or 0) + 1 : note.find("\n", entity.end or 0)]
    written = next((w for w in sorted(_NAMES, key=len, reverse=True) if w in line.lower()), None)
    if written is None:
        return None
    ingredient = _NAMES[written]
    if ingredient not in display and _SAME.get(ingredient, "") not in display:
        return f"{written!r} coded as {display!r}"
    others = {i for i in _NAMES.values() if i != ingredient}
    combination = "-" in written  # "amoxicillin-clavulanate" names both ingredients
    if any(re.search(rf"\b{re.escape(o)}\b", display) for o in others) or (
        " / " in display and not combination
    ):
        return f"{written!r} coded as a product with another ingredient: {display!r}"
    strengths = re.findall(r"(\d+(?:\.\d+)?) (mg|mcg)\b", display)
    if strengths:
        dose = re.search(r"(\d+(?:\.\d+)?) ?(mg|mcg)", line.lower())
        if dose is None or (float(strengths[0][0]), strengths[0][1]) != (float(dose[1]), dose[2]):
            return f"{written!r} written as {dose and dose[0]!r} coded as {display!r}"
        if not re.search(r"\b(tablet|capsule|inhaler|injection|solution)\b", line.lower()):
            return f"{written!r} coded as a clinical drug with no dose form written: {display!r}"
    return None


@pytest.fixture(scope="module")
def letter() -> tuple[str, list[Entity]]:
    note, _ = _letter()
    return note, clinex.extract(note).entities


def test_the_default_extractor_codes_no_drug_as_another_drug_strength_or_product(
    letter: tuple[str, list[Entity]],
) -> None:
    note, entities = letter
    medications = [e for e in entities if e.type == "medication"]
    # The check is only worth something if the tagger found the drugs: most lines have one.
    assert len(medications) >= 0.8 * (2 * len(CONFUSED_PAIRS) + len(STRENGTHS))
    problems = [p for e in medications if (p := _wrong(e, note)) is not None]
    assert not problems, problems
    coded = {e.text.lower() for e in medications if e.code is not None and e.code.system == RXNORM}
    # Ingredients the packaged RxNorm subset holds are coded (at the ingredient level).
    assert {"hydralazine", "metformin", "sertraline", "tramadol", "lamotrigine", "furosemide"} <= coded


@pytest.mark.parametrize("written", sorted(_NAMES))
def test_the_normaliser_codes_a_drug_only_as_itself(written: str) -> None:
    note, doses = _letter()
    start = note.lower().index(f"- {written} ") + 2
    entity = Entity(
        type="medication",
        text=note[start : start + len(written)],
        start=start,
        end=start + len(written),
        attributes={"dose": doses.get(written, "")} if written in doses else {},
    )
    (coded,) = normalise([entity], note)
    assert _wrong(coded, note) is None

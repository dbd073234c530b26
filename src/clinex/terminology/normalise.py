"""The normalisation stage: the one place a code is chosen, units in UCUM, canonical attributes.

For every extractor's entities (:func:`normalise`):

- **Attributes**: a lab unit in UCUM (``"mg/dl"`` → ``"mg/dL"``; one UCUM cannot express stays
  as written), a dose as number and UCUM unit (``"500mg"`` → ``"500 mg"``), a route and a
  frequency in their canonical form (:mod:`clinex.terminology.attributes`: ``"p.o."`` →
  ``"oral"``, ``"1-0-1"`` → ``"twice daily"``).
- **Codes**: condition → ICD-10-CM, lab → LOINC, medication → RxNorm; procedures and tumours stay
  uncoded (an ICD-10-PCS code needs body part, approach and device, which a mention rarely
  states). A condition is looked up (exact, synonym, close respelling; a code never says more
  than the text); an ICD-10-CM category becomes the billable leaf the text justifies where
  exactly one does (J45 → J45.909; :mod:`clinex.terminology.icd10cm`); a phrase around exactly
  one name ("right varicocele") takes that name's code, less specific than the phrase, at
  :data:`CONTAINED_NAME_FACTOR` × its score; then a retriever the extractor injected (the
  encoder's MiniLM index) may find one. A medication is coded at the level the text supports,
  never as another drug (:mod:`clinex.terminology.drugs`). A code the extractor gave is checked,
  not trusted: an ICD-10-CM code moves to its billable leaf, a drug code is kept only where it
  fits the mention.
- **Confidence**: ``confidence × (0.5 + 0.5 × score)``, where ``score`` is how the terminology
  named the mention (1.0 an exact name, 0.95 a synonym, at most 0.9 fuzzy or retrieved); a
  condition, medication or lab it cannot name gets score 0, so at most half its confidence: an
  entity the terminology cannot name is less trustworthy. A medication whose ingredients it
  names exactly keeps that score also where no concept fits the level the text supports (the
  subset lacks that ingredient concept): the drug is known, only its code is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.core.types import Code, Entity
from clinex.terminology import attributes, drugs
from clinex.terminology.base import Concept, Terminology
from clinex.terminology.coding import Coder, Retriever
from clinex.terminology.ucum import normalise_unit, parse_quantity

#: How much a name's code is trusted for a phrase around it ("right varicocele" → varicocele).
CONTAINED_NAME_FACTOR = 0.8
#: Below this similarity a retrieved concept is not trusted, and no code is set.
MIN_RETRIEVAL_SIMILARITY = 0.55
#: What joins two phrases: a span holding one of these is a list or a clause, not one term.
PHRASE_GLUE = re.compile(r"[,;]|\b(?:and|or|with|who|after|due to|secondary to|complaining)\b", re.IGNORECASE)


def normalise(
    entities: Sequence[Entity], text: str, *, retrievers: Mapping[str, Retriever] | None = None
) -> list[Entity]:
    """``entities`` with canonical attributes, codes and confidence (order kept).

    ``text`` is the note, read for a medication's dose and dose form written after its name;
    ``retrievers`` maps a terminology name (``"icd10cm"``) to a search used where lookup finds
    nothing.
    """
    retriever = (retrievers or {}).get("icd10cm")
    out = [_with_attributes(e) for e in entities]
    retrieval: list[int] = []
    for i, entity in enumerate(out):
        found: tuple[Code | None, float] | None
        system = _SYSTEMS.get(entity.type)
        if system is None or (entity.code is not None and entity.code.system != system):
            continue  # uncoded types, and a code in another system (the user's): not ours to judge
        if entity.type == "condition":
            found = _condition(entity)
            if found is None and retriever is not None:
                retrieval.append(i)
                continue
        elif entity.type == "lab":
            found = _lab(entity)
        else:
            found = _medication(entity, text)
        out[i] = _coded(entity, found)
    if retriever is not None and retrieval:
        hits = retriever.search([out[i].text for i in retrieval])
        for i, (concept, similarity) in zip(retrieval, hits, strict=True):
            trusted = similarity >= MIN_RETRIEVAL_SIMILARITY
            code = Code(system=ICD10CM, code=concept.code, display=concept.display)
            out[i] = _coded(out[i], (code, min(1.0, similarity)) if trusted else None)
    return out


def _with_attributes(entity: Entity) -> Entity:
    attrs = dict(entity.attributes)
    if "unit" in attrs:
        # A unit UCUM cannot express stays as written: it is still the note's unit.
        attrs["unit"] = normalise_unit(attrs["unit"]) or attrs["unit"]
    if "dose" in attrs:
        quantity = parse_quantity(attrs["dose"])
        if quantity is not None and quantity.unit != "1":
            attrs["dose"] = f"{quantity.value:g} {quantity.unit}"
    if "route" in attrs:
        attrs["route"] = attributes.canonical_route(attrs["route"])
    if "frequency" in attrs:
        attrs["frequency"] = attributes.canonical_frequency(attrs["frequency"])
    return entity if attrs == entity.attributes else entity.with_(attributes=attrs)


def _coded(entity: Entity, found: tuple[Code | None, float] | None) -> Entity:
    """``entity`` with the code found and the one confidence rule (not named: score 0)."""
    code, score = found if found is not None else (None, 0.0)
    return entity.with_(code=code, confidence=round(entity.confidence * (0.5 + 0.5 * score), 4))


def _known(terminology: Terminology, given: Code, code: str) -> tuple[Code, float]:
    """A code an extractor gave, with the terminology's display; one it does not know stays."""
    concept = terminology.get(code)
    if concept is None:
        return given, 1.0
    return Code(system=given.system, code=concept.code, display=concept.display), 1.0


def _condition(entity: Entity) -> tuple[Code, float] | None:
    coder = _coder("icd10cm")
    if entity.code is not None:
        from clinex.terminology import icd10cm

        return _known(coder.terminology, entity.code, icd10cm.billable(entity.code.code))
    match = coder.lookup(entity.text)
    if match is not None:
        return _code(ICD10CM, match.concept), match.score
    terms = coder.terms_in(entity.text)
    if len(terms) == 1 and not PHRASE_GLUE.search(entity.text):
        return _code(ICD10CM, terms[0].concept), terms[0].score * CONTAINED_NAME_FACTOR
    return None


def _lab(entity: Entity) -> tuple[Code, float] | None:
    coder = _coder("loinc")
    if entity.code is not None:
        return _known(coder.terminology, entity.code, entity.code.code)
    match = coder.lookup(entity.text)
    return (_code(LOINC, match.concept), match.score) if match is not None else None


def _medication(entity: Entity, text: str) -> tuple[Code | None, float] | None:
    end = entity.end
    dose = entity.attributes.get("dose") or (drugs.written_dose(text, end) if end is not None else None)
    form = drugs.written_form(text, end) if end is not None else None
    coder = drugs.packaged_coder()
    given = entity.code.code if entity.code is not None else None
    if entity.code is not None and given is not None and coder.terminology.get(given) is None:
        return entity.code, 1.0  # a code outside the packaged subset: it cannot be checked here
    found = coder.code(entity.text, dose=dose, form=form, given=given)
    if found is None:
        return None
    return (_code(RXNORM, found.concept) if found.concept is not None else None), found.score


def _code(system: str, concept: Concept) -> Code:
    return Code(system=system, code=concept.code, display=concept.display)


def _coder(name: str) -> Coder:
    if name not in _CODERS:
        from clinex.terminology import load

        _CODERS[name] = Coder(load(name))
    return _CODERS[name]


_SYSTEMS = {"condition": ICD10CM, "lab": LOINC, "medication": RXNORM}
_CODERS: dict[str, Coder] = {}

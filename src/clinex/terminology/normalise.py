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
- **Learned codes** (optional, ``linker``): a linker learned from the hospital's own coded notes
  (:mod:`clinex.terminology.learned`) sees each condition's and lab's text after the
  terminology proposed a code, and its code replaces the terminology's only where its evidence
  is stronger: enough observations of the mention, a majority coded so, and more of them than
  the terminology's score is worth (an exact name only loses to many consistent observations).
  A code the extractor gave is not re-linked. Without a linker, nothing changes.
- **Confidence**: ``confidence × (0.5 + 0.5 × score)``, where ``score`` is how the terminology
  named the mention (1.0 an exact name, 0.95 a synonym, at most 0.9 fuzzy or retrieved) or, where
  the linker's code won, its posterior share of the mention's observations (``k / (n + α + 1)``,
  at most 0.95, times the similarity for a neighbour's; :meth:`LearnedLinker.decide`); a
  condition, medication or lab it cannot name gets score 0, so at most half its confidence: an
  entity the terminology cannot name is less trustworthy. A medication whose ingredients it
  names exactly keeps that score also where no concept fits the level the text supports (the
  subset lacks that ingredient concept): the drug is known, only its code is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.core.types import Code, Entity
from clinex.terminology import attributes, drugs
from clinex.terminology.base import Concept, Terminology
from clinex.terminology.coding import Coder, Retriever
from clinex.terminology.ucum import normalise_unit, parse_quantity

if TYPE_CHECKING:
    from clinex.terminology.learned import LearnedLinker

#: How much a name's code is trusted for a phrase around it ("right varicocele" → varicocele).
CONTAINED_NAME_FACTOR = 0.8
#: Below this similarity a retrieved concept is not trusted, and no code is set.
MIN_RETRIEVAL_SIMILARITY = 0.55
#: What joins two phrases: a span holding one of these is a list or a clause, not one term.
PHRASE_GLUE = re.compile(r"[,;]|\b(?:and|or|with|who|after|due to|secondary to|complaining)\b", re.IGNORECASE)


def normalise(
    entities: Sequence[Entity],
    text: str,
    *,
    retrievers: Mapping[str, Retriever] | None = None,
    linker: LearnedLinker | None = None,
) -> list[Entity]:
    """``entities`` with canonical attributes, codes and confidence (order kept).

    ``text`` is the note, read for a medication's dose and dose form written after its name;
    ``retrievers`` maps a terminology name (``"icd10cm"``) to a search used where lookup finds
    nothing; ``linker``, learned from coded notes, overrides a condition's or lab's code where
    its evidence is stronger than the terminology's.
    """
    retriever = (retrievers or {}).get("icd10cm")
    out = [_with_attributes(e) for e in entities]
    found: dict[int, tuple[Code | None, float] | None] = {}
    retrieval: list[int] = []
    for i, entity in enumerate(out):
        system = _SYSTEMS.get(entity.type)
        if system is None or (entity.code is not None and entity.code.system != system):
            continue  # uncoded types, and a code in another system (the user's): not ours to judge
        if entity.type == "condition":
            found[i] = _condition(entity)
            if found[i] is None and retriever is not None:
                retrieval.append(i)
        elif entity.type == "lab":
            found[i] = _lab(entity)
        else:
            found[i] = _medication(entity, text)
    if retriever is not None and retrieval:
        hits = retriever.search([out[i].text for i in retrieval])
        for i, (concept, similarity) in zip(retrieval, hits, strict=True):
            trusted = similarity >= MIN_RETRIEVAL_SIMILARITY
            code = Code(system=ICD10CM, code=concept.code, display=concept.display)
            found[i] = (code, min(1.0, similarity)) if trusted else None
    if linker is not None:
        _learned(out, found, linker)
    for i, result in found.items():
        out[i] = _coded(out[i], result)
    return out


def _learned(
    entities: Sequence[Entity], found: dict[int, tuple[Code | None, float] | None], linker: LearnedLinker
) -> None:
    """Replace in ``found`` the codes the linker's evidence beats (conditions and labs whose code
    the extractor did not give)."""
    for entity_type, name in (("condition", "icd10cm"), ("lab", "loinc")):
        system = _SYSTEMS[entity_type]
        ask = [i for i in found if entities[i].type == entity_type and entities[i].code is None]
        if not ask:
            continue
        proposed = [
            (result[0].code, result[1]) if result is not None and result[0] is not None else (None, 0.0)
            for result in (found[i] for i in ask)
        ]
        decisions = linker.decide(system, [entities[i].text for i in ask], proposed)
        for i, linked in zip(ask, decisions, strict=True):
            if linked is not None:
                concept = _coder(name).terminology.get(linked.code)
                display = concept.display if concept is not None else linked.display
                found[i] = (Code(system=system, code=linked.code, display=display), linked.score)


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

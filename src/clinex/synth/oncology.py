"""Oncology detail for cancer patients: TNM, histology and grade.

Synthea-style sources have cancer diagnoses but no staging. A neoplasm condition gets a tumour
fact, taken from the source's staging Observations (LOINC 21905-5/21906-3/21907-1, histology
59847-4, grade 21858-6) where present, else sampled from the cancer type's usual histologies.
With ``rate > 0``, patients without a cancer receive one from :data:`CANCERS`, so that datasets
from any source hold cancer patients.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from clinex.core.systems import ICD10CM
from clinex.core.types import Code
from clinex.synth.facts import Fact, Tumor

LOINC_T, LOINC_N, LOINC_M = "21905-5", "21906-3", "21907-1"
LOINC_HISTOLOGY, LOINC_GRADE = "59847-4", "21858-6"
STAGING_LOINCS = frozenset({LOINC_T, LOINC_N, LOINC_M, LOINC_HISTOLOGY, LOINC_GRADE})


@dataclass(frozen=True, slots=True)
class CancerType:
    name: str
    icd10: str
    display: str
    histologies: tuple[str, ...]
    #: a word that identifies this cancer in a condition's name
    keyword: str


CANCERS: tuple[CancerType, ...] = (
    CancerType(
        "breast cancer",
        "C50.919",
        "Malignant neoplasm of unspecified site of unspecified female breast",
        ("invasive ductal carcinoma", "invasive lobular carcinoma"),
        "breast",
    ),
    CancerType(
        "colon cancer",
        "C18.9",
        "Malignant neoplasm of colon, unspecified",
        ("adenocarcinoma", "mucinous adenocarcinoma"),
        "colon",
    ),
    CancerType(
        "lung cancer",
        "C34.90",
        "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
        ("adenocarcinoma", "squamous cell carcinoma", "small cell carcinoma"),
        "lung",
    ),
    CancerType(
        "prostate cancer", "C61", "Malignant neoplasm of prostate", ("acinar adenocarcinoma",), "prostate"
    ),
    CancerType(
        "pancreatic cancer",
        "C25.9",
        "Malignant neoplasm of pancreas, unspecified",
        ("ductal adenocarcinoma",),
        "pancrea",
    ),
    CancerType(
        "bladder cancer",
        "C67.9",
        "Malignant neoplasm of bladder, unspecified",
        ("urothelial carcinoma",),
        "bladder",
    ),
    CancerType(
        "gastric cancer",
        "C16.9",
        "Malignant neoplasm of stomach, unspecified",
        ("adenocarcinoma", "signet ring cell carcinoma"),
        "gastric",
    ),
    CancerType(
        "renal cell carcinoma",
        "C64.9",
        "Malignant neoplasm of unspecified kidney, except renal pelvis",
        ("clear cell renal cell carcinoma", "papillary renal cell carcinoma"),
        "renal",
    ),
)

_NEOPLASM = re.compile(
    r"carcinoma|cancer|malignan|neoplasm|sarcoma|melanoma|lymphoma|leukemia", re.IGNORECASE
)


def is_neoplasm(fact: Fact) -> bool:
    """A condition that is a (malignant or in-situ) neoplasm, by ICD-10-CM chapter or by name."""
    if fact.type != "condition":
        return False
    if fact.code is not None and fact.code.system == ICD10CM:
        return fact.code.code[:1] == "C" or fact.code.code[:2] in {"D0", "D3", "D4"}
    return bool(_NEOPLASM.search(fact.name))


def sample_tumor(rng: random.Random, histologies: tuple[str, ...]) -> Tumor:
    t = rng.choice(["T1", "T1a", "T1b", "T2", "T2", "T3", "T4", "Tis"])
    n = rng.choice(["N0", "N0", "N1", "N2"])
    m = rng.choices(["M0", "M1"], weights=[4, 1])[0]
    return Tumor(
        t=t,
        n=n,
        m=m,
        histology=rng.choice(histologies),
        grade=rng.choice([1, 2, 2, 3]),
        prefix=rng.choice(["p", "c"]),
    )


def cancer_type_of(fact: Fact) -> CancerType | None:
    for cancer in CANCERS:
        if fact.code is not None and fact.code.code == cancer.icd10:
            return cancer
        if cancer.keyword in fact.name.lower():
            return cancer
    return None


def tumor_fact(condition: Fact, tumor: Tumor) -> Fact:
    """The tumour fact of a cancer condition: named by its histology, coded like the condition."""
    return Fact(
        type="tumor",
        name=tumor.histology,
        role="active",
        code=condition.code,
        date=condition.date,
        tumor=tumor,
        source_id=condition.source_id,
    )


def enrich(facts: list[Fact], rng: random.Random, *, rate: float) -> list[Fact]:
    """Facts with a tumour fact for every neoplasm that has none (and, with probability ``rate``,
    a new cancer for a patient without one)."""
    out = list(facts)
    cancers = [f for f in facts if is_neoplasm(f) and f.role == "active"]
    if not cancers and rng.random() < rate:
        cancer = rng.choice(CANCERS)
        dated = [f.date for f in facts if f.date is not None]
        condition = Fact(
            type="condition",
            name=cancer.name,
            code=Code(system=ICD10CM, code=cancer.icd10, display=cancer.display),
            date=max(dated) if dated else None,
        )
        out.append(condition)
        cancers = [condition]
    staged = {f.source_id for f in facts if f.type == "tumor" and f.source_id is not None}
    for condition in cancers:
        if condition.source_id is not None and condition.source_id in staged:
            continue
        kind = cancer_type_of(condition)
        tumor = sample_tumor(rng, kind.histologies if kind else ("carcinoma",))
        out.append(tumor_fact(condition, tumor))
    return out

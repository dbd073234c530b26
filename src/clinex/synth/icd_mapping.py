"""SNOMED CT → ICD-10-CM for the conditions of Synthea-style data.

Synthea codes conditions in SNOMED CT only. Gold needs ICD-10-CM, so a condition is mapped by
(1) a curated table of the SNOMED codes Synthea emits most, checked against ICD-10-CM by a test,
then (2) a lookup of its display text in the ICD-10-CM terminology, accepted above a score.
Whatever maps nowhere is counted as unmapped and left without a code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import simple_icd_10_cm as icd

from clinex.core.systems import ICD10CM
from clinex.core.types import Code
from clinex.terminology.base import Concept, Match, Terminology

#: Least lookup score for a display-text mapping to be trusted.
MIN_LOOKUP_SCORE = 0.9

#: SNOMED CT → ICD-10-CM for the conditions Synthea emits most (and the cancers it can emit).
CURATED: dict[str, str] = {
    "44054006": "E11.9",  # diabetes mellitus type 2
    "59621000": "I10",  # essential hypertension
    "38341003": "I10",  # hypertensive disorder
    "15777000": "R73.03",  # prediabetes
    "271737000": "D64.9",  # anemia
    "55822004": "E78.5",  # hyperlipidemia
    "302870006": "E78.1",  # hypertriglyceridemia
    "237602007": "E88.810",  # metabolic syndrome X
    "162864005": "E66.9",  # body mass index 30+ - obesity
    "40055000": "J32.9",  # chronic sinusitis
    "444814009": "J01.90",  # viral sinusitis
    "75498004": "J01.90",  # acute bacterial sinusitis
    "195662009": "J02.9",  # acute viral pharyngitis
    "43878008": "J02.0",  # streptococcal sore throat
    "10509002": "J20.9",  # acute bronchitis
    "233604007": "J18.9",  # pneumonia
    "13645005": "J44.9",  # chronic obstructive lung disease
    "185086009": "J44.9",  # chronic obstructive bronchitis
    "87433001": "J43.9",  # pulmonary emphysema
    "195967001": "J45.909",  # asthma
    "233678006": "J45.909",  # childhood asthma
    "367498001": "J30.2",  # seasonal allergic rhinitis
    "840539006": "U07.1",  # COVID-19
    "65363002": "H66.90",  # otitis media
    "22298006": "I21.9",  # myocardial infarction
    "399211009": "I25.2",  # history of myocardial infarction
    "53741008": "I25.10",  # coronary arteriosclerosis
    "414545008": "I25.9",  # ischemic heart disease
    "49436004": "I48.91",  # atrial fibrillation
    "88805009": "I50.9",  # chronic congestive heart failure
    "230690007": "I63.9",  # cerebrovascular accident
    "431855005": "N18.1",  # chronic kidney disease stage 1
    "431856006": "N18.2",  # chronic kidney disease stage 2
    "433144002": "N18.30",  # chronic kidney disease stage 3
    "127013003": "E11.21",  # disorder of kidney due to diabetes mellitus
    "90781000119102": "E11.29",  # microalbuminuria due to type 2 diabetes mellitus
    "368581000119106": "E11.40",  # neuropathy due to type 2 diabetes mellitus
    "422034002": "E11.319",  # retinopathy due to type 2 diabetes mellitus
    "197927001": "N39.0",  # recurrent urinary tract infection
    "239873007": "M17.9",  # osteoarthritis of knee
    "69896004": "M06.9",  # rheumatoid arthritis
    "64859006": "M81.0",  # osteoporosis
    "26929004": "G30.9",  # Alzheimer's disease
    "84757009": "G40.909",  # epilepsy
    "370143000": "F32.9",  # major depressive disorder
    "192127007": "F90.9",  # child attention deficit disorder
    "66383009": "K05.10",  # gingivitis
    "18718003": "K06.9",  # gingival disease
    "109570002": "K02.9",  # primary dental caries
    "68496003": "K63.5",  # polyp of colon
    "70704007": "S63.509A",  # sprain of wrist
    "44465007": "S93.409A",  # sprain of ankle
    "58150001": "S42.009A",  # fracture of clavicle
    "62106007": "S06.0X0A",  # concussion with no loss of consciousness
    "110030002": "S06.0X9A",  # concussion injury of brain
    "307731004": "S46.009A",  # injury of rotator cuff
    "386661006": "R50.9",  # fever
    "49727002": "R05.9",  # cough
    "254837009": "C50.919",  # malignant neoplasm of breast
    "363406005": "C18.9",  # malignant neoplasm of colon
    "254637007": "C34.90",  # non-small cell lung cancer
    "424132000": "C34.90",  # non-small cell carcinoma of lung, TNM stage 1
    "254632001": "C34.90",  # small cell carcinoma of lung
    "126906006": "C61",  # neoplasm of prostate
    "92691004": "D07.5",  # carcinoma in situ of prostate
    # Synthea disorders whose display no ICD-10-CM name matches (injuries, dental, pregnancy,
    # drug use): mapped by hand to the billable code an ICD-10-CM coder would choose.
    "6525002": "F19.20",  # dependent drug abuse
    "196416002": "K01.1",  # impacted molars
    "124171000119105": "G43.719",  # chronic intractable migraine without aura
    "427419006": "G43.709",  # transformed migraine
    "1149222004": "T50.901A",  # overdose
    "312608009": "T14.8XXA",  # laceration - injury
    "125605004": "T14.8XXA",  # fracture of bone
    "307426000": "N30.00",  # acute infective cystitis
    "370247008": "S01.81XA",  # facial laceration
    "90460009": "S19.9XXA",  # injury of neck
    "39848009": "S13.4XXA",  # whiplash injury to neck
    "263102004": "S62.109A",  # fracture subluxation of wrist
    "427898007": "K04.7",  # infection of tooth
    "9340000": "F30.9",  # bipolar I disorder, single manic episode
    "65966004": "S52.90XA",  # fracture of forearm
    "19169002": "O03.9",  # miscarriage in first trimester
    "156073000": "O03.9",  # complete miscarriage
    "85116003": "O03.9",  # miscarriage in second trimester
    "284551006": "S91.319A",  # laceration of foot
    "284549007": "S61.419A",  # laceration of hand
    "283385000": "S71.119A",  # laceration of thigh
    "283371005": "S51.819A",  # laceration of forearm
    "16114001": "S82.899A",  # fracture of ankle
    "125601008": "S89.90XA",  # injury of knee
    "62564004": "S06.0X9A",  # concussion with loss of consciousness
    "359817006": "S72.009A",  # closed fracture of hip
    "78275009": "G47.33",  # obstructive sleep apnea syndrome
    "157141000119108": "E11.29",  # proteinuria due to type 2 diabetes mellitus
    "444448004": "S83.419A",  # injury of medial collateral ligament of knee
    "201834006": "M19.049",  # localized, primary osteoarthritis of the hand
    "403190006": "T30.0",  # epidermal burn of skin
    "403191005": "T30.0",  # partial thickness burn
    "403192003": "T30.0",  # full thickness burn
    "33737001": "S22.39XA",  # fracture of rib
    "30832001": "S76.119A",  # rupture of patellar tendon
    "401303003": "I21.3",  # acute ST segment elevation myocardial infarction
    "401314000": "I21.4",  # acute non-ST segment elevation myocardial infarction
    "61804006": "M27.3",  # alveolitis of jaw
    "398254007": "O14.90",  # pre-eclampsia
    "235919008": "K80.20",  # gallbladder calculus
    "47505003": "F43.10",  # posttraumatic stress disorder
    "83664006": "E03.4",  # idiopathic atrophic hypothyroidism
    "35999006": "O02.0",  # blighted ovum
    "156370009": "L40.50",  # psoriatic arthritis
    "263172003": "S02.609A",  # fracture of mandible
    "239720000": "S83.209A",  # tear of meniscus of knee
    "713197008": "K62.1",  # recurrent rectal polyp
    "86406008": "B20",  # human immunodeficiency virus infection
    "128302006": "B18.2",  # chronic hepatitis C
    "127294003": "S06.9XAA",  # traumatic or nontraumatic brain injury
    "81629009": "S03.00XA",  # traumatic dislocation of temporomandibular joint
    "56786000": "I37.0",  # pulmonic valve stenosis
    "698819004": "T81.44XA",  # postoperative sepsis
    "230265002": "G30.0",  # familial Alzheimer's disease of early onset
    "79586000": "O00.109",  # tubal pregnancy
    "37320007": "K08.409",  # loss of teeth
    "1255252008": "K08.89",  # resorption of alveolar process due to dental trauma
}

_TAG = re.compile(r"\s*\(([a-z][a-z /-]+)\)\s*$")


def semantic_tag(display: str) -> str | None:
    """The SNOMED semantic tag of a display, e.g. ``"disorder"``."""
    match = _TAG.search(display)
    return match.group(1) if match else None


#: SNOMED displays no letter would write, by code → the name letters use.
LETTER_NAMES: dict[str, str] = {
    "162864005": "obesity",
    "840539006": "COVID-19",
    "237602007": "metabolic syndrome",
    "90781000119102": "microalbuminuria due to type 2 diabetes",
    "368581000119106": "diabetic neuropathy",
    "422034002": "diabetic retinopathy",
}


def plain_name(display: str) -> str:
    """A SNOMED or ICD-10-CM display as a letter would say it: no semantic tag, no
    "unspecified", lower case (acronyms kept)."""
    text = _TAG.sub("", display).strip()
    text = re.sub(r",? unspecified\b|\bunspecified ", "", text, flags=re.IGNORECASE).strip(" ,")
    return " ".join(
        w if (w.isupper() and len(w) > 1) or any(c.isdigit() for c in w) else w.lower() for w in text.split()
    )


@dataclass(slots=True)
class IcdMapper:
    """Maps SNOMED-coded conditions to ICD-10-CM, counting how each was mapped."""

    counts: dict[str, int] = field(default_factory=lambda: {"curated": 0, "lookup": 0, "unmapped": 0})

    def map(self, snomed_code: str | None, display: str) -> Code | None:
        icd = CURATED.get(snomed_code or "")
        if icd is not None:
            self.counts["curated"] += 1
            return Code(system=ICD10CM, code=icd, display=_description(icd))
        hit = _lookup(plain_name(display))
        if hit is None:
            self.counts["unmapped"] += 1
            return None
        self.counts["lookup"] += 1
        return Code(system=ICD10CM, code=hit.code, display=hit.display)


def _description(code: str) -> str | None:
    concept = _terminology().get(code)
    return concept.display if concept else None


@functools.lru_cache(maxsize=4096)
def _lookup(name: str) -> Concept | None:
    # ICD-10-CM spells the residual code of a concept "X, unspecified"; try that first, exactly.
    for variant in (f"{name}, unspecified", name):
        exact = [
            m for m in _terminology().lookup(variant, limit=3, fuzzy=False) if m.score >= 1.0 and _billable(m)
        ]
        if exact:
            return exact[0].concept
    matches: list[Match] = _terminology().lookup(name, limit=3, fuzzy=True)
    good = [m for m in matches if m.score >= MIN_LOOKUP_SCORE and _billable(m)]
    return good[0].concept if good else None


def _billable(match: Match) -> bool:
    # Gold codes should be codes a coder could assign, not 3-character categories with children.
    return bool(icd.is_leaf(match.concept.code))


@functools.lru_cache(maxsize=1)
def _terminology() -> Terminology:
    from clinex.core.registry import terminologies

    terminology: Terminology = terminologies.get("icd10cm")()
    return terminology

"""The template letter writer: deterministic given a seed, span-exact by construction.

A letter is assembled piece by piece, so the offset of every concept mention is known when it
is written; no search in the finished text is needed. Variety comes from four layouts
(US-style ``us_a`` sectioned, ``us_b`` narrative; German-style ``de_a`` sectioned with dosing
schemes, ``de_b`` epicrisis prose), three disjoint paraphrase families (``phrases/v1.yaml``),
abbreviations, dose/unit/date spellings, lists vs prose, copy-forward repetition and occasional
typos.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import yaml

from clinex.core.types import Entity
from clinex.synth.facts import Dose, Fact, SampledFacts
from clinex.synth.writers.base import Letter
from clinex.terminology import attributes

LAYOUTS: tuple[str, ...] = ("us_a", "us_b", "de_a", "de_b")
_SLOT = re.compile(r"\{(\w+)\}")
_ATTRIBUTE_SLOTS = {
    "dose": "dose",
    "route": "route",
    "freq": "frequency",
    "value": "value",
    "unit": "unit",
    "date": "date",
    "tnm": "tnm",
    "grade": "grade",
}
_DATE_FORMATS = {
    "us": ("%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d", "%m/%d/%y"),
    "de": ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d %b %Y"),
}
# The spellings letters use for frequencies, dosing schemes and routes: the one vocabulary's.
_FREQUENCIES = attributes.letter_frequencies()
_SCHEMES = attributes.letter_schemes()
_ROUTES = attributes.letter_routes()
_UNITS: dict[str, tuple[str, ...]] = {
    "mg/dL": ("mg/dL", "mg/dl"),
    "g/dL": ("g/dL", "g/dl"),
    "mmol/L": ("mmol/L", "mmol/l"),
    "10*3/uL": ("x10^3/µL", "10^3/uL", "/nL", "G/L"),
    "10*6/uL": ("x10^6/µL", "10^6/uL", "/pL", "T/L"),
    "mm[Hg]": ("mmHg", "mm Hg"),
    "kg/m2": ("kg/m2", "kg/m²"),
    "/min": ("/min", "bpm"),
    "Cel": ("°C", "C"),
    "fL": ("fL", "fl"),
    "U/L": ("U/L", "U/l", "IU/L"),
    "mg/L": ("mg/L", "mg/l"),
    "%": ("%",),
    "kg": ("kg",),
}
_GRADES = {
    1: ("G1", "well differentiated", "grade 1"),
    2: ("G2", "moderately differentiated", "grade 2"),
    3: ("G3", "poorly differentiated", "grade 3"),
}
_SEX = {
    "male": ("man", "he", "He", "his"),
    "female": ("woman", "she", "She", "her"),
    "unknown": ("patient", "the patient", "The patient", "their"),
}

#: per letter: chance of typos in running text, and per concept mention
TYPO_RATE = 0.3
MENTION_TYPO_RATE = 0.02


@functools.lru_cache(maxsize=4)
def load_phrases(version: str = "v1") -> dict[str, Any]:
    """The phrase file ``phrases/<version>.yaml`` shipped with clinex."""
    text = resources.files("clinex.synth.writers").joinpath("phrases", f"{version}.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


class _Builder:
    """Appends text and records the span of every mention as it is written."""

    def __init__(self, rng: random.Random, typos: bool) -> None:
        self.rng = rng
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[Entity] = []
        self.typos = typos

    def raw(self, text: str) -> None:
        self.parts.append(text)
        self.pos += len(text)

    def text(self, text: str) -> None:
        if self.typos and len(text) > 12 and self.rng.random() < 0.05:
            text = _typo(text, self.rng)
        self.raw(text)

    def result(self) -> str:
        return "".join(self.parts)


class _Letter:
    """The choices made for one letter (layout, family, spellings) and the writing helpers."""

    def __init__(self, facts: SampledFacts, rng: random.Random, layout: str, family: str) -> None:
        self.facts = facts
        self.rng = rng
        self.layout = layout
        self.style = layout[:2]
        self.family = family
        phrases = load_phrases()
        self.phrases: dict[str, list[str]] = phrases["families"][family]
        self.variants: dict[str, list[str]] = phrases["variants"]
        self.relatives: list[str] = phrases["relatives"]
        self.b = _Builder(rng, typos=rng.random() < TYPO_RATE)
        self.date_format = rng.choice(_DATE_FORMATS[self.style])
        self.decimal_comma = self.style == "de" and rng.random() < 0.5
        self.abbreviate = rng.random()  # how readily this author abbreviates
        self.bullet = rng.choice(["- ", "* ", "• ", "", "#"])
        sex = _SEX[facts.sex]
        self.pronouns = {"sex": sex[0], "he": sex[1], "He": sex[2], "his": sex[3]}

    # ----- spellings

    def date(self, day: dt.date) -> str:
        fmt = self.date_format if self.rng.random() < 0.85 else self.rng.choice(_DATE_FORMATS[self.style])
        return day.strftime(fmt)

    def number(self, value: float) -> str:
        text = f"{value:.0f}" if value == round(value) or abs(value) >= 100 else f"{value:.1f}"
        return text.replace(".", ",") if self.decimal_comma else text

    def dose(self, dose: Dose) -> str:
        value, unit = dose.value, dose.unit
        choices = [f"{self.number(value)} {unit}", f"{self.number(value)}{unit}"]
        if unit == "mg" and value >= 1000 and value % 1000 == 0:
            choices.append(f"{self.number(value / 1000)} g")
        if unit == "mg" and value < 1:
            choices += [f"{self.number(value * 1000)} mcg", f"{self.number(value * 1000)} µg"]
        if unit == "µg":
            choices.append(f"{self.number(value)} mcg")
        return self.rng.choice(choices)

    def frequency(self, per_day: int) -> str:
        if self.style == "de" and per_day in _SCHEMES and self.rng.random() < 0.6:
            return self.rng.choice(_SCHEMES[per_day])
        return self.rng.choice(_FREQUENCIES.get(per_day, (f"{per_day}x daily",)))

    def mention(self, fact: Fact) -> str:
        name = fact.name
        options = self.variants.get(name.lower())
        if options and self.rng.random() < self.abbreviate:
            name = self.rng.choice(options)
        if self.b.typos and self.rng.random() < MENTION_TYPO_RATE:
            name = _typo(name, self.rng)
        return name

    def slots(self, fact: Fact) -> dict[str, str]:
        slots = dict(self.pronouns)
        slots["rel"] = self.rng.choice(self.relatives)
        if fact.date is not None:
            slots["date"] = self.date(fact.date)
        if fact.dose is not None:
            slots["dose"] = self.dose(fact.dose)
        if fact.route in _ROUTES:
            slots["route"] = self.rng.choice(_ROUTES[fact.route])
        if fact.per_day is not None:
            slots["freq"] = self.frequency(fact.per_day)
        if fact.value is not None:
            slots["value"] = self.number(fact.value)
        if fact.unit:
            slots["unit"] = self.rng.choice(_UNITS.get(fact.unit, (fact.unit,)))
        if fact.tumor is not None:
            t = fact.tumor
            slots["tnm"] = self.rng.choice(
                [
                    f"{t.prefix}{t.t} {t.prefix}{t.n} {t.m}",
                    f"{t.prefix}{t.t}{t.prefix}{t.n}{t.m}",
                    f"{t.t} {t.n} {t.m}",
                    f"{t.prefix}{t.t}, {t.prefix}{t.n}, {t.m}",
                ]
            )
            if t.grade in _GRADES:
                slots["grade"] = self.rng.choice(_GRADES[t.grade])
        return slots

    # ----- writing

    def say(self, kind: str, fact: Fact) -> bool:
        """Write ``fact`` with a random template of ``kind`` whose slots it can fill."""
        slots = self.slots(fact)
        usable = [t for t in self.phrases[kind] if all(s in slots or s in "xX" for s in _SLOT.findall(t))]
        if not usable:
            return False
        template = self.rng.choice(usable)
        surface = self.mention(fact)
        attributes: dict[str, str] = {}
        start = end = 0
        pos = 0
        for match in _SLOT.finditer(template):
            self.b.text(template[pos : match.start()])
            slot = match.group(1)
            if slot in ("x", "X"):
                if slot == "X" or (match.start() == 0 and kind.endswith("prose")):
                    surface = surface[:1].upper() + surface[1:]
                start = self.b.pos
                self.b.raw(surface)
                end = self.b.pos
            else:
                self.b.raw(slots[slot])
                if slot in _ATTRIBUTE_SLOTS:
                    attributes[_ATTRIBUTE_SLOTS[slot]] = slots[slot]
            pos = match.end()
        self.b.text(template[pos:])
        if fact.type == "tumor":
            attributes["histology"] = surface
        self.b.entities.append(
            Entity(
                type=fact.type,
                text=surface,
                start=start,
                end=end,
                assertion=fact.assertion,
                code=fact.code,
                attributes=attributes,
            )
        )
        return True

    def heading(self, *options: str) -> None:
        title = self.rng.choice(options)
        self.b.text(
            f"\n{title}{'' if title.endswith(':') else ':'}\n"
            if self.rng.random() < 0.7
            else f"\n{title.upper()}\n"
        )

    def items(self, kind: str, facts: Sequence[Fact]) -> None:
        for number, fact in enumerate(facts, 1):
            bullet = f"{number}. " if self.bullet == "#" else self.bullet
            self.b.text(bullet)
            if not self.say(kind, fact):
                self.b.text("(see chart)")
            self.b.text("\n")

    def prose(self, kind: str, facts: Sequence[Fact]) -> None:
        for fact in facts:
            if self.say(kind, fact):
                self.b.text(" ")

    def section(self, headings: tuple[str, ...], kind: str, facts: Sequence[Fact], *, lists: float) -> None:
        if not facts:
            return
        self.heading(*headings)
        if self.rng.random() < lists:
            self.items(kind, facts)
        elif f"{kind}_prose" in self.phrases:
            self.prose(f"{kind}_prose", facts)
            self.b.text("\n")
        else:  # short phrases without a prose form read as a run-in list
            _joined(self, kind, facts, separator=self.rng.choice([", ", "; "]))
            self.b.text(".\n")

    def sentences(self, kind: str, facts: Sequence[Fact]) -> None:
        for fact in facts:
            self.say(kind, fact)
            self.b.text(" ")


def _typo(text: str, rng: random.Random) -> str:
    words = [m for m in re.finditer(r"[a-z]{6,}", text)]
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


class TemplateWriter:
    """Writes letters from templates; registered as ``template.v1``.

    ``held_out_layouts`` and ``held_out_families`` are used only for ``held_out=True`` letters
    (the test split), so a model trained on the others meets unseen layouts and wordings.
    """

    name = "template.v1"

    def __init__(
        self, *, held_out_layouts: Sequence[str] = ("de_b",), held_out_families: Sequence[str] = ("c",)
    ) -> None:
        families = tuple(load_phrases()["families"])
        unknown = [x for x in held_out_layouts if x not in LAYOUTS] + [
            x for x in held_out_families if x not in families
        ]
        if unknown:
            raise ValueError(
                f"unknown layout or paraphrase family {unknown}; layouts: {LAYOUTS}, families: {families}"
            )
        self.held_out_layouts = tuple(held_out_layouts)
        self.held_out_families = tuple(held_out_families)
        self.layouts = tuple(x for x in LAYOUTS if x not in self.held_out_layouts) or LAYOUTS
        self.families = tuple(x for x in families if x not in self.held_out_families) or families

    def write(self, facts: SampledFacts, rng: random.Random, *, held_out: bool = False) -> Letter:
        layout = rng.choice(self.held_out_layouts if held_out and self.held_out_layouts else self.layouts)
        family = rng.choice(self.held_out_families if held_out and self.held_out_families else self.families)
        letter = _Letter(facts, rng, layout, family)
        _WRITERS[layout](letter)
        return Letter(text=letter.b.result(), entities=letter.b.entities, layout=layout, family=family)


def _by(facts: SampledFacts, type_: str, *roles: str) -> list[Fact]:
    return [f for f in facts.facts if f.type == type_ and f.role in roles]


def _parts(w: _Letter) -> dict[str, list[Fact]]:
    f = w.facts
    return {
        "dx": _by(f, "condition", "active"),
        "hx": _by(f, "condition", "history"),
        "hx_proc": _by(f, "procedure", "history"),
        "family": _by(f, "condition", "family"),
        "negated": _by(f, "condition", "negated"),
        "hypothetical": _by(f, "condition", "hypothetical"),
        "meds": _by(f, "medication", "active"),
        "labs": _by(f, "lab", "active"),
        "procs": _by(f, "procedure", "active"),
        "tumor": _by(f, "tumor", "active"),
    }


def _dates(w: _Letter) -> tuple[str, str]:
    return w.date(w.facts.encounter.start), w.date(w.facts.encounter.end)


def _copy_forward(w: _Letter, dx: list[Fact], heading: tuple[str, ...]) -> None:
    # Real letters repeat their problem list in the plan; each repeat is a gold mention too.
    if not dx or w.rng.random() < 0.5:
        return
    w.heading(*heading)
    for fact in w.rng.sample(dx, min(3, len(dx))):
        w.b.text(w.bullet if w.bullet != "#" else "- ")
        w.say("diagnosis", fact)
        w.b.text(f": {w.rng.choice(w.phrases['plan'])}\n")


def _write_us_a(w: _Letter) -> None:
    p = _parts(w)
    adm, dis = _dates(w)
    w.b.text(w.rng.choice(["DISCHARGE SUMMARY", "Discharge Summary", "HOSPITAL DISCHARGE SUMMARY"]))
    w.b.text(f"\nAdmission Date: {adm}\nDischarge Date: {dis}\n")
    if p["negated"]:
        w.heading("History of Present Illness", "HPI", "Presentation")
        age = f"{w.facts.age}-year-old " if w.facts.age is not None else ""
        w.b.text(f"The patient is a {age}{w.pronouns['sex']} who presented for evaluation. ")
        w.sentences("negated", p["negated"])
        w.b.text("\n")
    w.section(("Discharge Diagnoses", "Diagnoses", "Principal Diagnoses"), "diagnosis", p["dx"], lists=0.85)
    w.section(("Past Medical History", "PMH", "Past History"), "history", p["hx"], lists=0.8)
    w.section(("Past Surgical History", "PSH"), "history_procedure", p["hx_proc"], lists=0.8)
    w.section(("Family History", "FHx", "Family Hx"), "family", p["family"], lists=0.7)
    w.section(("Oncologic History", "Oncology"), "tumor", p["tumor"], lists=0.5)
    w.section(("Procedures", "Procedures Performed"), "procedure", p["procs"], lists=0.7)
    w.section(("Pertinent Labs", "Labs", "Laboratory Results"), "lab", p["labs"], lists=0.7)
    w.section(
        ("Discharge Medications", "Medications on Discharge", "Meds"), "medication", p["meds"], lists=0.9
    )
    _copy_forward(w, p["dx"], ("Assessment and Plan", "A/P", "Plan"))
    if p["hypothetical"]:
        w.heading("Discharge Instructions", "Instructions")
        w.sentences("hypothetical", p["hypothetical"])
        w.b.text("\n")
    w.b.text(w.rng.choice(["\nFollow up with PCP in 1-2 weeks.\n", "\nFollow-up as scheduled.\n", "\n"]))


def _write_us_b(w: _Letter) -> None:
    p = _parts(w)
    adm, dis = _dates(w)
    age = f"{w.facts.age}-year-old " if w.facts.age is not None else ""
    w.b.text(f"{w.rng.choice(['Discharge note', 'DISCHARGE NOTE', 'Hospital course summary'])}\n\n")
    w.b.text(f"This {age}{w.pronouns['sex']} was seen from {adm} to {dis}. ")
    w.prose("diagnosis_prose", p["dx"])
    if p["hx"] or p["hx_proc"]:
        w.b.text(w.rng.choice(["Past history: ", "Previously: ", "PMH: "]))
        _joined(w, "history", p["hx"] + p["hx_proc"], separator="; ")
        w.b.text(".")
    w.b.text("\n\n")
    w.sentences("negated", p["negated"])
    w.prose("procedure_prose", p["procs"])
    w.prose("lab_prose", p["labs"])
    w.prose("tumor", p["tumor"])
    if p["family"]:
        w.b.text("\nFamily history: ")
        _joined(w, "family", p["family"])
        w.b.text(".\n")
    w.prose("medication_prose", p["meds"])
    w.b.text("\n")
    _copy_forward(w, p["dx"], ("Problem list", "Impression"))
    w.sentences("hypothetical", p["hypothetical"])


def _write_de_a(w: _Letter) -> None:
    p = _parts(w)
    adm, dis = _dates(w)
    w.b.text(w.rng.choice(["Dear colleague,\n\n", "Dear Dr. Miller,\n\n", "Dear colleagues,\n\n"]))
    w.b.text(
        f"we report on your patient ({w.pronouns['sex']}"
        + (f", {w.facts.age} years" if w.facts.age is not None else "")
        + f"), who was in our inpatient treatment from {adm} to {dis}.\n"
    )
    if p["dx"]:
        w.heading("Diagnoses", "Main diagnosis")
        w.items("diagnosis", p["dx"][:1])
        if p["dx"][1:]:
            w.heading("Secondary diagnoses", "Comorbidities")
            w.items("diagnosis", p["dx"][1:])
    w.section(("Previous history", "Anamnesis"), "history", p["hx"], lists=0.6)
    w.section(("Previous operations", "Surgical history"), "history_procedure", p["hx_proc"], lists=0.8)
    w.section(("Family history",), "family", p["family"], lists=0.5)
    w.section(("Tumour classification", "Histology"), "tumor", p["tumor"], lists=0.5)
    if p["labs"]:
        w.heading("Findings", "Laboratory")
        if w.rng.random() < 0.5:
            _joined(w, "lab", p["labs"], separator="; ")
            w.b.text("\n")
        else:
            w.items("lab", p["labs"])
    if p["negated"] or p["procs"]:
        w.heading("Therapy and course", "Course")
        w.prose("procedure_prose", p["procs"])
        w.sentences("negated", p["negated"])
        w.b.text("\n")
    w.section(("Medication on discharge", "Discharge medication"), "medication", p["meds"], lists=0.95)
    if p["hypothetical"]:
        w.heading("Procedure", "Recommendations")
        w.sentences("hypothetical", p["hypothetical"])
        w.b.text("\n")
    w.b.text(
        w.rng.choice(["\nKind regards\n", "\nWith best regards,\nSenior physician\n", "\nYours sincerely\n"])
    )


def _write_de_b(w: _Letter) -> None:
    p = _parts(w)
    adm, dis = _dates(w)
    w.b.text(f"Inpatient stay {adm} - {dis}\n")
    w.heading("Diagnoses", "Diagnosis")
    _joined(w, "diagnosis", p["dx"], separator="; ")
    w.b.text("\n")
    if p["hx"] or p["hx_proc"]:
        w.heading("Previous illnesses", "Past history")
        _joined(w, "history", p["hx"], separator="; ")
        if p["hx"] and p["hx_proc"]:
            w.b.text("; ")
        _joined(w, "history_procedure", p["hx_proc"], separator="; ")
        w.b.text("\n")
    w.heading("Epicrisis", "Summary")
    w.b.text(f"The {w.pronouns['sex']} was admitted on {adm}. ")
    w.sentences("negated", p["negated"])
    w.prose("procedure_prose", p["procs"])
    w.prose("lab_prose", p["labs"])
    w.prose("tumor", p["tumor"])
    if p["family"]:
        w.b.text("Family history: ")
        _joined(w, "family", p["family"])
        w.b.text(". ")
    w.b.text("\n")
    w.section(("Medication", "Current medication"), "medication", p["meds"], lists=0.7)
    w.sentences("hypothetical", p["hypothetical"])


def _joined(w: _Letter, kind: str, facts: Sequence[Fact], *, separator: str = ", ") -> None:
    first = True
    for fact in facts:
        if not first:
            w.b.text(separator)
        first = not w.say(kind, fact) and first


_WRITERS: dict[str, Callable[[_Letter], None]] = {
    "us_a": _write_us_a,
    "us_b": _write_us_b,
    "de_a": _write_de_a,
    "de_b": _write_de_b,
}

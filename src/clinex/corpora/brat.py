"""BRAT standoff: ``<id>.ann`` beside ``<id>.txt``.

Read: ``T`` text-bound annotations (type names below; discontinuous spans are joined from the
first start to the last end), ``A``/``M`` attributes (an assertion flag such as ``Negated T1``,
or an entity attribute such as ``dose T1 500mg``), ``N`` normalisations
(``Reference T1 ICD10CM:E11.9``) and ``AnnotatorNotes`` of ``key=value; ...`` pairs
(attributes with spaces, and ``confidence``). Relations and events are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from clinex.core import systems
from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTES, Assertion, Code, Document, Entity, EntityType
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems

#: Code-system prefixes of BRAT normalisations (``ICD10CM:E11.9``).
SYSTEM_NAMES: dict[str, str] = {
    "ICD10CM": systems.ICD10CM,
    "ICD10PCS": systems.ICD10PCS,
    "RXNORM": systems.RXNORM,
    "ATC": systems.ATC,
    "LOINC": systems.LOINC,
    "SNOMEDCT": systems.SNOMED,
}
#: BRAT type names (lower case) accepted for each clinex entity type.
TYPE_NAMES: dict[str, EntityType] = {
    "condition": "condition",
    "problem": "condition",
    "diagnosis": "condition",
    "disease": "condition",
    "disorder": "condition",
    "medication": "medication",
    "drug": "medication",
    "lab": "lab",
    "test": "lab",
    "procedure": "procedure",
    "treatment": "procedure",
    "tumor": "tumor",
    "tumour": "tumor",
    "neoplasm": "tumor",
}
_ALL_ATTRIBUTES = frozenset(name for names in ATTRIBUTES.values() for name in names)
_SPAN = re.compile(r"^(\d+) (\d+)$")
_IGNORED = ("R", "E", "*")


class _Builder:
    """One entity being assembled from its T line and the lines that point at it."""

    def __init__(self, entity_type: EntityType, text: str, start: int, end: int) -> None:
        self.type = entity_type
        self.text = text
        self.start = start
        self.end = end
        self.flags: dict[str, bool] = {}
        self.attributes: dict[str, str] = {}
        self.code: Code | None = None
        self.confidence = 1.0

    def build(self) -> Entity:
        return Entity(
            type=self.type,
            text=self.text,
            start=self.start,
            end=self.end,
            assertion=Assertion(**self.flags),
            code=self.code,
            attributes=self.attributes,
            confidence=self.confidence,
        )


def read_brat(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read one ``.ann`` file or a folder of them; the note is the ``.txt`` of the same name."""
    files = sorted(path.glob("*.ann")) if path.is_dir() else [path]
    problems = Problems(path.name)
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    for ann in files:
        txt = (text_dir or ann.parent) / f"{ann.stem}.txt"
        note = txt.read_text(encoding="utf-8") if txt.is_file() else ""
        documents[ann.stem] = _read_ann(ann, note, problems)
        locations[ann.stem] = ann.name
    problems.raise_if_any(
        hint="see https://brat.nlplab.org/standoff.html; type names: " + ", ".join(TYPE_NAMES)
    )
    return Corpus(documents=documents, source=path.name, format="brat", locations=locations)


def _read_ann(ann: Path, note: str, problems: Problems) -> Document:
    builders: dict[str, _Builder] = {}
    for number, line in enumerate(ann.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith(_IGNORED):
            continue
        where = f"{ann.name}:{number}"
        fields = line.split("\t")
        try:
            if line.startswith("T"):
                builders[fields[0]] = _text_bound(fields, note)
            elif line.startswith(("A", "M")):
                _attribute(fields[1].split(" "), builders)
            elif line.startswith("N"):
                _normalisation(fields[1].split(" "), fields[2] if len(fields) > 2 else "", builders)
            elif line.startswith("#"):
                _notes(fields[1].split(" "), fields[2] if len(fields) > 2 else "", builders)
            else:
                raise ValueError("unknown annotation kind")
        except (ValueError, IndexError, KeyError) as exc:
            problems.add(where, str(exc) if isinstance(exc, ValueError) else "malformed line")
    entities = sorted((b.build() for b in builders.values()), key=lambda e: (e.start or 0, e.end or 0))
    return Document(text=note, id=ann.stem, entities=entities)


def offsets(spans: str) -> list[tuple[int, int]]:
    """The fragments of a ``T`` line's offsets (``"0 5;9 14"``); ValueError if malformed."""
    bounds = []
    for fragment in spans.split(";"):
        match = _SPAN.match(fragment)
        if match is None:
            raise ValueError("bad offsets")
        bounds.append((int(match[1]), int(match[2])))
    return bounds


def _text_bound(fields: list[str], note: str) -> _Builder:
    label, _, spans = fields[1].partition(" ")
    entity_type = TYPE_NAMES.get(label.lower())
    if entity_type is None:
        raise ValueError(f"unknown label {label!r}")
    bounds = offsets(spans)
    start, end = bounds[0][0], bounds[-1][1]
    text = fields[2]
    if note:
        if len(bounds) == 1 and note[start:end] != text:
            raise ValueError("offsets do not match the text in the .txt file")
        text = note[start:end]
    return _Builder(entity_type, text, start, end)


def _attribute(parts: list[str], builders: dict[str, _Builder]) -> None:
    name, target = parts[0], builders[parts[1]]
    value = " ".join(parts[2:])
    flag = (value or name).lower()
    if flag in ASSERTION_FLAGS:
        target.flags[flag] = True
    elif name.lower() in _ALL_ATTRIBUTES and value:
        target.attributes[name.lower()] = value
    else:
        raise ValueError(f"unknown attribute {name!r}")


def _normalisation(parts: list[str], display: str, builders: dict[str, _Builder]) -> None:
    target = builders[parts[1]]
    prefix, _, code = parts[2].partition(":")
    system = SYSTEM_NAMES.get(prefix.upper().replace("-", "").replace("_", ""))
    if system is None or not code:
        raise ValueError(f"unknown code system {prefix!r}")
    target.code = Code(system=system, code=code, display=display or None)


def _notes(parts: list[str], note: str, builders: dict[str, _Builder]) -> None:
    target = builders[parts[1]]
    for pair in note.split(";"):
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep:
            continue  # free-text annotator notes carry nothing to score
        if key == "confidence":
            target.confidence = float(value)
        elif key in _ALL_ATTRIBUTES:
            target.attributes[key] = value.strip()


def write_brat(doc: Document, folder: Path) -> None:
    """Write one document as ``<id>.ann`` and ``<id>.txt``; ungrounded entities are left out."""
    system_names = {system: name for name, system in SYSTEM_NAMES.items()}
    lines: list[str] = []
    counters = {"A": 0, "N": 0, "#": 0}
    for index, entity in enumerate((e for e in doc.entities if e.grounded), start=1):
        lines.append(f"T{index}\t{entity.type} {entity.start} {entity.end}\t{entity.text}")
        for flag in entity.assertion.names():
            counters["A"] += 1
            lines.append(f"A{counters['A']}\t{flag} T{index}")
        if entity.code is not None:
            counters["N"] += 1
            prefix = system_names.get(entity.code.system, entity.code.system)
            lines.append(
                f"N{counters['N']}\tReference T{index} {prefix}:{entity.code.code}\t{entity.code.display or ''}"
            )
        notes = [f"{k}={v}" for k, v in sorted(entity.attributes.items())] + [
            f"confidence={entity.confidence}"
        ]
        counters["#"] += 1
        lines.append(f"#{counters['#']}\tAnnotatorNotes T{index}\t{'; '.join(notes)}")
    (folder / f"{doc.id}.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / f"{doc.id}.txt").write_text(doc.text, encoding="utf-8")

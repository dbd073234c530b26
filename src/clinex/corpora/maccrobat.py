"""MACCROBAT2020 case reports: BRAT standoff with its own labels, mapped onto clinex's types.

Each ``<pmid>.ann`` sits beside its ``<pmid>.txt``; the document id is the file stem. The labels
become entities as follows (every other label — Date, Age, Biological_structure, Severity, ... —
is context, not an entity):

- ``Disease_disorder``, ``Sign_symptom`` → condition;
- ``Medication`` → medication; a ``Dosage``, ``Administration`` or ``Frequency`` linked to it by
  an ``R`` ``MODIFY`` relation gives its ``dose``, ``route`` or ``frequency`` (the raw text; the
  first in text order where there are several);
- ``Diagnostic_procedure`` with a numeric ``Lab_value`` linked to it by ``MODIFY`` → lab, with
  ``value`` and ``unit`` split from the first such value where it reads "number unit" (the whole
  text as ``value`` where it does not); any other ``Diagnostic_procedure`` and
  ``Therapeutic_procedure`` → procedure.

Assertions: ``A`` lines ``POLARITY NEG`` → negated; ``UNCERTAIN``, ``MAYBE_POS`` and
``MAYBE_NEG`` (under ``POLARITY`` or ``MODALITY``) → uncertain; an entity inside a ``History``
span → historical, inside a ``Family_history`` span → family. ``TREND`` and ``POLARITY POS``
carry nothing clinex scores. ``E`` lines (events) stand for their trigger ``T``; ``A`` and ``R``
lines may name either. ``*`` (OVERLAP) and ``#`` (AnnotatorNotes) lines are skipped.

A discontinuous span (``start end;start end``) is kept whole where its fragments joined by
spaces are the note's text from the first start to the last end; otherwise only its first
fragment is kept, so that every entity holds ``note[start:end] == text``. Two mentions of one
type on the same span are one entity (the first). The corpus has no codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from clinex.core.errors import EvaluationError
from clinex.core.types import Assertion, Document, Entity, EntityType
from clinex.corpora._text import note_text
from clinex.corpora.brat import offsets
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems

#: MACCROBAT labels that are clinex entities, with their type (Diagnostic_procedure: see labs).
ENTITY_LABELS: dict[str, EntityType] = {
    "Disease_disorder": "condition",
    "Sign_symptom": "condition",
    "Medication": "medication",
    "Diagnostic_procedure": "procedure",
    "Therapeutic_procedure": "procedure",
}
#: Modifier labels that give a medication its attributes.
MEDICATION_ATTRIBUTES: dict[str, str] = {
    "Dosage": "dose",
    "Administration": "route",
    "Frequency": "frequency",
}
#: Labels whose spans set an assertion flag on every entity inside them.
CONTEXT_FLAGS: dict[str, str] = {"History": "historical", "Family_history": "family"}
#: ``A`` line values (``POLARITY`` or ``MODALITY``) and the flag each sets (None: affirmed).
ATTRIBUTE_FLAGS: dict[str, str | None] = {
    "NEG": "negated",
    "UNCERTAIN": "uncertain",
    "MAYBE_POS": "uncertain",
    "MAYBE_NEG": "uncertain",
    "POS": None,
    "FACTUAL": None,
}
#: Labels only MACCROBAT uses (a generic BRAT reader rejects them): what detection looks for.
MARKER_LABELS = frozenset(
    {
        "Disease_disorder",
        "Sign_symptom",
        "Diagnostic_procedure",
        "Therapeutic_procedure",
        "Lab_value",
        "Biological_structure",
        "Detailed_description",
        "Family_history",
        "Clinical_event",
    }
)
_ASSERTION_NAMES = ("POLARITY", "MODALITY")
_UNSCORED_NAMES = ("TREND",)
_ARGUMENT = re.compile(r"^\w+:([TE]\d+)$")
# A numeral not glued to letters before it ("pT3" is a stage, not a value).
_NUMERAL = re.compile(r"(?<![A-Za-z])\d")
_NUMBER = r"[-−+]?\d[\d.,]*"
_NUMBER_UNIT = re.compile(
    rf"^(?P<value>(?:[<>≤≥~]=?\s*)?{_NUMBER}(?:/{_NUMBER}|\s*(?:-|–|to)\s*{_NUMBER})?)"
    r"(?:\s*(?P<unit>(?!(?:st|nd|rd|th)\b)[A-Za-z%µμ°×/(\[]\S*(?:\s+\S+){0,2}))?$"
)
_HINT = "MACCROBAT2020 .ann files hold T/E/R/A lines (see https://brat.nlplab.org/standoff.html)"


@dataclass(slots=True)
class _Mention:
    """One ``T`` line: its label, offsets, the text it gives and where it stands."""

    label: str
    fragments: list[tuple[int, int]]
    text: str
    where: str
    span: tuple[int, int] | None = None


@dataclass(slots=True)
class _Annotations:
    """The lines of one ``.ann`` file, ids not yet resolved."""

    mentions: dict[str, _Mention] = field(default_factory=dict)
    triggers: dict[str, tuple[str, str]] = field(default_factory=dict)
    flags: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)


def read_maccrobat(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read MACCROBAT2020 (a folder of ``<pmid>.ann`` + ``<pmid>.txt``, or one ``.ann``).

    ``text_dir`` holds the ``.txt`` notes where they are not beside the ``.ann`` files.
    """
    files = _ann_files(path)
    problems = Problems(path.name)
    if not files:
        problems.add(str(path), "no .ann file")
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    for ann in files:
        note = note_text(text_dir or ann.parent, ann.stem)
        if not note:
            problems.add(
                ann.name, f"{ann.stem}.txt is missing or empty (put it beside the .ann or in --text)"
            )
            continue
        annotations = _parse(ann, problems)
        documents[ann.stem] = Document(
            text=note, id=ann.stem, entities=_entities(annotations, note, problems)
        )
        locations[ann.stem] = ann.name
    problems.raise_if_any(hint=_HINT)
    return Corpus(documents=documents, source=path.name, format="maccrobat", locations=locations)


def maccrobat_halves(directory: Path) -> tuple[list[str], list[str]]:
    """The document ids of ``directory`` split in two by sorted id: (fit, report).

    "fit" holds the ids at even positions (0, 2, ...), "report" those at odd ones; the split
    depends on the file names only, so one half can fit a calibrator and the other report on it.
    """
    ids = [ann.stem for ann in _ann_files(directory)] if directory.is_dir() else []
    if not ids:
        raise EvaluationError(
            f"no .ann files in {directory.name}", hint="give the folder of MACCROBAT <pmid>.ann files"
        )
    return ids[0::2], ids[1::2]


def looks_like_maccrobat(path: Path, *, files: int = 5) -> bool:
    """Whether ``path`` (an ``.ann`` file or a folder) uses MACCROBAT labels (the first few files)."""
    for ann in _ann_files(path)[:files]:
        with ann.open(encoding="utf-8") as lines:
            for line in lines:
                fields = line.split("\t")
                if line.startswith("T") and len(fields) > 1 and fields[1].split(" ")[0] in MARKER_LABELS:
                    return True
    return False


def _ann_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.ann")) if path.is_dir() else [path]


def _parse(ann: Path, problems: Problems) -> _Annotations:
    found = _Annotations()
    for number, line in enumerate(ann.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith(("*", "#")):
            continue
        where = f"{ann.name}:{number}"
        fields = line.split("\t")
        try:
            if len(fields) < 2:
                raise ValueError("no tab after the id")
            words = fields[1].split()
            if line.startswith("T"):
                found.mentions[fields[0]] = _mention(fields, where)
            elif line.startswith("E"):
                found.triggers[fields[0]] = (words[0].split(":")[1], where)
            elif line.startswith("A"):
                _attribute(words, where, found)
            elif line.startswith("R"):
                if words[0] == "MODIFY":
                    found.links.append((_argument(words[1]), _argument(words[2]), where))
            else:
                raise ValueError("unknown annotation kind")
        except ValueError as exc:
            problems.add(where, str(exc))
        except IndexError:
            problems.add(where, "malformed line")
    return found


def _mention(fields: list[str], where: str) -> _Mention:
    label, _, spans = fields[1].partition(" ")
    return _Mention(label, offsets(spans), fields[2], where)


def _attribute(words: list[str], where: str, found: _Annotations) -> None:
    name, target = words[0], words[1]
    if name in _UNSCORED_NAMES:
        return
    value = words[2] if len(words) > 2 else ""
    if name not in _ASSERTION_NAMES or value not in ATTRIBUTE_FLAGS:
        raise ValueError(f"unknown attribute {name} {value}".rstrip())
    flag = ATTRIBUTE_FLAGS[value]
    if flag is not None:
        found.flags.append((target, flag, where))


def _argument(word: str) -> str:
    match = _ARGUMENT.match(word)
    if match is None:
        raise ValueError("bad relation argument")
    return match[1]


def _entities(found: _Annotations, note: str, problems: Problems) -> list[Entity]:
    mentions = found.mentions

    def resolve(ref: str, where: str) -> str | None:
        """The T id an annotation id stands for (an event's trigger), or None (a problem)."""
        trigger = found.triggers[ref][0] if ref in found.triggers else ref
        if trigger not in mentions:
            problems.add(where, f"{ref} names no T line")
            return None
        return trigger

    for mention in mentions.values():
        try:
            mention.span = _span(mention, note)
        except ValueError as exc:
            problems.add(mention.where, str(exc))
    for event, (_, where) in found.triggers.items():
        resolve(event, where)
    linked: dict[str, list[_Mention]] = {}
    for first_ref, second_ref, where in found.links:
        first, second = resolve(first_ref, where), resolve(second_ref, where)
        if first is not None and second is not None:
            linked.setdefault(first, []).append(mentions[second])
            linked.setdefault(second, []).append(mentions[first])
    flags: dict[str, set[str]] = {}
    for ref, flag, where in found.flags:
        target = resolve(ref, where)
        if target is not None:
            flags.setdefault(target, set()).add(flag)
    contexts = [
        (CONTEXT_FLAGS[m.label], start, end)
        for m in mentions.values()
        if m.label in CONTEXT_FLAGS
        for start, end in m.fragments
    ]
    entities: dict[tuple[str, int, int], Entity] = {}
    for tid, mention in mentions.items():
        entity_type = ENTITY_LABELS.get(mention.label)
        if entity_type is None or mention.span is None:
            continue
        start, end = mention.span
        neighbours = sorted(linked.get(tid, []), key=lambda m: m.fragments[0])
        attributes = _attributes(mention.label, neighbours)
        if mention.label == "Diagnostic_procedure" and attributes:
            entity_type = "lab"
        named = flags.get(tid, set()) | {
            flag for flag, c_start, c_end in contexts if c_start <= start and end <= c_end
        }
        entity = Entity(
            type=entity_type,
            text=note[start:end],
            start=start,
            end=end,
            assertion=Assertion(**dict.fromkeys(named, True)),
            attributes=attributes,
        )
        # The same fact annotated twice (two discontinuous mentions cut to one fragment) is one.
        entities.setdefault((entity_type, start, end), entity)
    return sorted(entities.values(), key=lambda e: (e.start or 0, e.end or 0))


def _span(mention: _Mention, note: str) -> tuple[int, int]:
    """The grounded span of a mention: whole, or its first fragment (see the module docstring)."""
    (start, first_end), last_end = mention.fragments[0], mention.fragments[-1][1]
    if any(not 0 <= s <= e <= len(note) for s, e in mention.fragments):
        raise ValueError("offsets outside the .txt file")
    joined = " ".join(note[s:e] for s, e in mention.fragments)
    if joined != mention.text:
        raise ValueError("offsets do not match the text in the .txt file")
    return (start, last_end) if note[start:last_end] == joined else (start, first_end)


def _attributes(label: str, neighbours: list[_Mention]) -> dict[str, str]:
    """The attributes the mentions linked to one by MODIFY give it (first in text order wins)."""
    attributes: dict[str, str] = {}
    if label == "Medication":
        for mention in neighbours:
            name = MEDICATION_ATTRIBUTES.get(mention.label)
            if name is not None:
                attributes.setdefault(name, mention.text)
    elif label == "Diagnostic_procedure":
        values = [m.text for m in neighbours if m.label == "Lab_value" and _NUMERAL.search(m.text)]
        if values:
            attributes = lab_value(values[0])
    return attributes


def lab_value(text: str) -> dict[str, str]:
    """``value`` and ``unit`` of a Lab_value text: ``"2.2 mg/dL"`` → 2.2, mg/dL; ``"<3"`` → <3;
    anything that is not "number unit" (``"more than 4 ng/ml"``) → the whole text as ``value``."""
    match = _NUMBER_UNIT.match(text.strip())
    if match is None:
        return {"value": text.strip()}
    found = {"value": match["value"]}
    if match["unit"]:
        found["unit"] = match["unit"]
    return found

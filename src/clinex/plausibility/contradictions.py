"""Checks of one note against itself: the same fact said both ways.

- ``condition_refuted_and_confirmed``: one condition (the same ICD-10-CM code, else the same
  normalised text) both negated and affirmed (no flag set: not historical, family, uncertain or
  hypothetical). A negated mention of a family member's condition is no denial of the patient's.
  The finding is on the first negated mention, ``related`` the affirmed ones.
- ``medication_started_and_stopped``: one medication (the same drug by its RxNorm concept's
  ingredients, else its name: :mod:`clinex.plausibility.ingredients`) with a mention in a
  sentence that starts it and one in a sentence that stops it. The cue words are data
  (``data/course_cues.json``), matched case-insensitively as whole words in the mention's
  sentence (:func:`clinex.text.sentences.split_sentences`); where a sentence holds both kinds
  ("metformin stopped, gliclazide started") each mention takes the cue nearest to it. Negated,
  hypothetical and family mentions ("will start", "not started") do not count. The finding is on
  the first stopping mention, ``related`` the starting ones.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections import defaultdict
from importlib import resources

from clinex.core.systems import ICD10CM, RXNORM
from clinex.core.types import Document, Entity
from clinex.plausibility.findings import Finding, about
from clinex.plausibility.ingredients import drug_key
from clinex.terminology.drugs import base_name
from clinex.text.sentences import split_sentences

REFUTED_AND_CONFIRMED = "condition_refuted_and_confirmed"
STARTED_AND_STOPPED = "medication_started_and_stopped"


def condition_findings(doc: Document) -> list[Finding]:
    """A finding for each condition that one note both negates and affirms."""
    negated: dict[str, list[int]] = defaultdict(list)
    affirmed: dict[str, list[int]] = defaultdict(list)
    for index, entity in enumerate(doc.entities):
        if entity.type != "condition":
            continue
        key = _condition_key(entity)
        if entity.assertion.affirmed:
            affirmed[key].append(index)
        elif entity.assertion.negated and not entity.assertion.family:
            negated[key].append(index)
    findings = []
    for key, refuted in negated.items():
        if key in affirmed:
            first = doc.entities[refuted[0]]
            message = f"{_condition_label(first)} is negated and affirmed in the same note" + _where(
                doc, refuted[0], affirmed[key]
            )
            findings.append(about(REFUTED_AND_CONFIRMED, refuted[0], first, message, tuple(affirmed[key])))
    return findings


def medication_findings(doc: Document) -> list[Finding]:
    """A finding for each medication that one note both starts and stops."""
    mentions = [
        (i, e)
        for i, e in enumerate(doc.entities)
        if e.type == "medication"
        and e.start is not None
        and not (e.assertion.negated or e.assertion.hypothetical or e.assertion.family)
    ]
    by_drug: dict[str, list[int]] = defaultdict(list)
    for index, entity in mentions:
        key = drug_key(entity)
        if key is not None:
            by_drug[key].append(index)
    repeated = {key: indexes for key, indexes in by_drug.items() if len(indexes) > 1}
    if not repeated:
        return []
    sentences = split_sentences(doc.text)
    findings = []
    for indexes in repeated.values():
        courses: dict[str, list[int]] = defaultdict(list)
        for index in indexes:
            entity = doc.entities[index]
            cue = _course(doc.text, sentences, entity.start or 0, entity.end or 0)
            if cue is not None:
                courses[cue].append(index)
        if courses["start"] and courses["stop"]:
            stop = courses["stop"][0]
            entity = doc.entities[stop]
            message = f"{_medication_label(entity)} is started and stopped in the same note" + _where(
                doc, stop, courses["start"]
            )
            findings.append(about(STARTED_AND_STOPPED, stop, entity, message, tuple(courses["start"])))
    return findings


def _condition_key(entity: Entity) -> str:
    if entity.code is not None and entity.code.system == ICD10CM:
        return f"code {entity.code.code}"
    return f"text {base_name(entity.text)}"


def _condition_label(entity: Entity) -> str:
    if entity.code is not None and entity.code.system == ICD10CM:
        return f"condition ICD-10-CM {entity.code.code}"
    return "uncoded condition"


def _medication_label(entity: Entity) -> str:
    if entity.code is not None and entity.code.system == RXNORM:
        return f"medication RxNorm {entity.code.code}"
    return "uncoded medication"


def _where(doc: Document, first: int, others: list[int]) -> str:
    """Where the mentions are, as character spans (never their words)."""
    spans = [doc.entities[i] for i in [first, *others]]
    return " (mentions at " + ", ".join(f"[{e.start}, {e.end})" for e in spans) + ")"


def _course(text: str, sentences: list[tuple[int, int]], start: int, end: int) -> str | None:
    """``start`` or ``stop`` as the sentence of the mention at ``[start, end)`` says (the cue
    nearest to it), or None."""
    at = bisect.bisect_right(sentences, (start, len(text) + 1)) - 1
    if at < 0 or sentences[at][1] < end:
        return None
    nearest: tuple[int, str] | None = None
    for kind, pattern in _cues().items():
        for match in pattern.finditer(text, *sentences[at]):
            if match.start() < end and match.end() > start:
                continue  # a cue inside the mention is no cue
            distance = start - match.end() if match.end() <= start else match.start() - end
            if nearest is None or distance < nearest[0]:
                nearest = (distance, kind)
    return nearest[1] if nearest else None


@functools.cache
def _cues() -> dict[str, re.Pattern[str]]:
    """The packaged cue words (``data/course_cues.json``) as one whole-word pattern per kind."""
    data = json.loads(
        (resources.files("clinex.plausibility") / "data" / "course_cues.json").read_text("utf-8")
    )
    return {
        kind: re.compile(
            r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, data[kind]), key=len, reverse=True)) + r")(?!\w)",
            re.IGNORECASE,
        )
        for kind in ("start", "stop")
    }

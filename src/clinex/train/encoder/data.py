"""Synthetic letters (``clinex synth`` JSONL) → labelled token windows for the encoder tagger.

Gold attributes are strings (DESIGN.md JSONL); their spans are found in the letter as the
occurrence nearest to their entity on the same line, the way the linker reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.core.errors import InputError
from clinex.core.serialize import entity_from_dict
from clinex.core.types import Document, Entity
from clinex.extractors.encoder.labels import FLAGS, IGNORE, LABEL_IDS, CharSpan, encode_spans
from clinex.extractors.encoder.linking import MAX_DISTANCE
from clinex.extractors.encoder.windows import make_windows
from clinex.train.paths import require_file


@dataclass(frozen=True, slots=True)
class TrainingWindow:
    """One encoder input ([CLS] tokens [SEP]) with its BIO labels and assertion targets."""

    ids: list[int]
    labels: list[int]
    flags: list[list[float]]
    flag_mask: list[float]
    #: the weight of this window's span loss (a silver letter's may differ from a synthetic one's)
    weight: float = 1.0


def read_letters(path: Path, *, limit: int | None = None, what: str = "letters") -> list[Document]:
    """Letters from a JSONL file of ``{"id", "text", "entities"}``.

    A missing or empty file, a bad line, or letters none of which has a grounded gold entity
    (notes rather than training data) raise InputError naming the file (as ``what``, e.g. the
    config option that gave it).
    """
    require_file(path, what=what, hint="write it with `clinex synth ... -o DIR` first, or fix the path")
    documents = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record: dict[str, Any] = json.loads(line)
                text = record["text"]
                entities = [entity_from_dict(e) for e in record.get("entities") or []]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputError(
                    f"{path}, line {number}: not a letter record",
                    hint='each line needs {"id", "text", "entities"}',
                ) from None
            except InputError as exc:
                raise InputError(f"{path}, line {number}: {exc.message}", hint=exc.hint) from None
            bad = sum(1 for e in entities if e.grounded and not e.is_grounded_in(text))
            if bad:
                raise InputError(
                    f"{path}, line {number}: {bad} entities do not match their span",
                    hint="regenerate the data",
                )
            meta = record.get("meta")
            documents.append(
                Document(
                    text=text,
                    id=str(record.get("id", number)),
                    entities=entities,
                    meta=dict(meta) if isinstance(meta, dict) else {},
                )
            )
            if limit is not None and len(documents) >= limit:
                break
    if not documents:
        raise InputError(
            f"{what} {path} holds no letters", hint='write one {"id", "text", "entities"} record a line'
        )
    if not any(e.grounded for d in documents for e in d.entities):
        raise InputError(
            f"{what} {path}: none of its {len(documents)} letters has a gold entity with a span",
            hint="train on letters with gold entities, e.g. from `clinex synth`",
        )
    return documents


def reviewed(document: Document) -> bool:
    """Whether a letter is gold from the review service (its meta holds ``review``: exported by
    clinex.review.export): a model's own corrected output, to train on, never to score on."""
    return "review" in document.meta


def keep_reviewed_out(
    dev: list[Document], train: list[Document]
) -> tuple[list[Document], list[Document], int]:
    """``(dev, train, moved)``: the reviewed letters of ``dev`` moved to the training side (a
    letter whose id is already in ``train`` is dropped from dev only), and how many."""
    ids = {d.id for d in train}
    moved = [d for d in dev if reviewed(d)]
    return (
        [d for d in dev if not reviewed(d)],
        train + [d for d in moved if d.id not in ids],
        len(moved),
    )


def locate_attribute(text: str, value: str, entity: Entity) -> tuple[int, int] | None:
    """The occurrence of ``value`` nearest to ``entity`` on its line; one after it wins over one before."""
    assert entity.start is not None and entity.end is not None  # only grounded entities get here
    line_start = text.rfind("\n", 0, entity.start) + 1
    line_end = text.find("\n", entity.end)
    line_end = len(text) if line_end < 0 else line_end
    best: tuple[int, int] | None = None
    best_distance = 4 * MAX_DISTANCE + 2
    position = text.find(value, line_start, line_end)
    while position >= 0 and value:
        end = position + len(value)
        if end <= entity.start or position >= entity.end:
            distance = (
                position - entity.end if position >= entity.end else entity.start - end + 2 * MAX_DISTANCE
            )
            if distance < best_distance:
                best, best_distance = (position, end), distance
        position = text.find(value, position + 1, line_end)
    return best


def gold_spans(document: Document) -> tuple[list[CharSpan], list[tuple[CharSpan, Entity]]]:
    """All gold spans (entities first, then located attributes) and each entity with its span."""
    entities = [
        (CharSpan(e.type, e.start, e.end), e)
        for e in document.entities
        if e.start is not None and e.end is not None
    ]
    attributes = []
    for _span, entity in entities:
        for kind, value in entity.attributes.items():
            found = locate_attribute(document.text, value, entity)
            if found is not None:
                attributes.append(CharSpan(kind, *found))
    return [s for s, _ in entities] + attributes, entities


def partial(document: Document) -> bool:
    """Whether a letter's labels are incomplete (``meta.align.partial``: silver from
    ``clinex align``, where only the facts the hospital coded are labelled)."""
    align = document.meta.get("align")
    return isinstance(align, dict) and bool(align.get("partial"))


#: Finds the spans of a note the terminology offers as mentions (``[(start, end)]``).
CandidateFinder = Callable[[str], Sequence[tuple[int, int]]]


def training_windows(
    documents: Iterable[Document],
    tokenizer: Any,
    *,
    max_len: int,
    overlap: int,
    weight: float = 1.0,
    candidates: CandidateFinder | None = None,
    only_spans: bool = False,
) -> list[TrainingWindow]:
    """Every window of every letter, labelled (windows overlap, so no text is left out), with
    ``weight`` on its span loss.

    With ``candidates``, a :func:`partial` letter's tokens inside a candidate mention that no
    label covers get no span loss (:data:`~clinex.extractors.encoder.labels.IGNORE`): an
    uncoded mention of a partially labelled note is unknown, not "nothing here". Its other
    unlabelled tokens — text where the terminology offers nothing — are still taught as O.
    With ``only_spans``, none of a partial letter's unlabelled tokens gets span loss.
    """
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    out = []
    for document in documents:
        encoding = tokenizer.encode(document.text, add_special_tokens=False)
        spans, entities = gold_spans(document)
        labels = encode_spans(encoding.offsets, spans)
        if only_spans and partial(document):
            labels = [IGNORE if label == LABEL_IDS["O"] else label for label in labels]
        elif candidates is not None and partial(document):
            labels = _unknown_where_offered(labels, encoding.offsets, candidates(document.text))
        flags, mask = _flag_targets(encoding.offsets, entities)
        for w in make_windows(len(encoding.ids), max_len=max_len, overlap=overlap) if encoding.ids else []:
            out.append(
                TrainingWindow(
                    ids=[cls_id, *encoding.ids[w.start : w.end], sep_id],
                    labels=[IGNORE, *labels[w.start : w.end], IGNORE],
                    flags=[[0.0] * len(FLAGS), *flags[w.start : w.end], [0.0] * len(FLAGS)],
                    flag_mask=[0.0, *mask[w.start : w.end], 0.0],
                    weight=weight,
                )
            )
    return out


def _unknown_where_offered(
    labels: list[int], offsets: Sequence[tuple[int, int]], offered: Sequence[tuple[int, int]]
) -> list[int]:
    outside = LABEL_IDS["O"]
    masked = list(labels)
    for start, end in offered:
        inside = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
        if any(labels[i] != outside for i in inside):
            continue  # a labelled mention overlaps it: the label speaks for it
        for i in inside:
            masked[i] = IGNORE
    return masked


def masked_tokens(windows: Iterable[TrainingWindow]) -> int:
    """How many real tokens (not [CLS]/[SEP]) of ``windows`` have no span loss."""
    return sum(label == IGNORE for w in windows for label in w.labels[1:-1])


def _flag_targets(
    offsets: Sequence[tuple[int, int]], entities: Sequence[tuple[CharSpan, Entity]]
) -> tuple[list[list[float]], list[float]]:
    flags = [[0.0] * len(FLAGS) for _ in offsets]
    mask = [0.0] * len(offsets)
    for span, entity in entities:
        target = [float(getattr(entity.assertion, f)) for f in FLAGS]
        for i, (s, e) in enumerate(offsets):
            if s < span.end and e > span.start:
                flags[i], mask[i] = target, 1.0
    return flags, mask

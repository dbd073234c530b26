"""Scoring predictions against gold: the function behind ``clinex evaluate``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from clinex.core.errors import ConfigError, EvaluationError
from clinex.core.types import Document, Entity
from clinex.corpora import Corpus, read_corpus
from clinex.corpora.problems import Problems
from clinex.corpora.subject import Subject
from clinex.eval.assertions import AssertionScores, assertion_class
from clinex.eval.bootstrap import PairedTest, confidence_intervals, paired_test, resample_indices
from clinex.eval.calibration import Calibration, calibration
from clinex.eval.categories import Category
from clinex.eval.doclevel import average_precision, code_set, ranked_codes, set_score
from clinex.eval.matching import DocMatch, MatchMode, check_mode, match
from clinex.eval.results import CategoryResult, ErrorExample, Report, RunResult
from clinex.eval.scope import Scope, check_names, scope
from clinex.eval.scores import PRFScore, mean_defined
from clinex.eval.sections import Sections
from clinex.eval.subgroups import PERIODS, Period, read_gold, subgroups

#: Note-length slices: (name, lower bound in characters), checked from the longest down.
LENGTH_BUCKETS: tuple[tuple[str, int], ...] = (
    ("length:>=2500", 2500),
    ("length:1000-2499", 1000),
    ("length:<1000", 0),
)
_CONTEXT = 80


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalOptions:
    """How to score: match mode, bootstrap resamples and seed, CI level, calibration bins, which
    entity types and categories (None: what the gold annotates, see :mod:`clinex.eval.scope`),
    and how subgroups are formed."""

    match: MatchMode = "strict"
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    bins: int = 10
    examples: int = 20
    #: entity types the gold annotates (``--types``); None: the types it holds
    types: tuple[str, ...] | None = None
    #: categories to score (``--categories``); None: every one the gold can score
    categories: tuple[str, ...] | None = None
    #: the period subgroup of a note's date: "year" (2024) or "quarter" (2024-Q1)
    period: Period = "year"
    #: documents a subgroup needs to take part in the largest-gap comparison (a bootstrap of
    #: fewer documents gives intervals too narrow to flag anything by)
    min_group_documents: int = 10

    def __post_init__(self) -> None:
        check_mode(self.match)
        check_names(self.types, self.categories)
        if self.period not in PERIODS:
            raise ConfigError(f"unknown period {self.period!r}", hint=f"choose one of: {', '.join(PERIODS)}")
        if self.min_group_documents < 1:
            raise ConfigError(f"min_group_documents={self.min_group_documents}", hint="use 1 or more")
        if self.bootstrap < 0:
            raise ConfigError(f"bootstrap={self.bootstrap} is negative", hint="use 0 to skip intervals")
        if not 0.0 < self.level < 1.0:
            raise ConfigError(f"level={self.level} is not between 0 and 1", hint="e.g. 0.95")
        if self.bins < 1 or self.examples < 0:
            raise ConfigError(f"bins={self.bins}, examples={self.examples}", hint="bins >= 1, examples >= 0")


def evaluate(
    gold: Corpus,
    preds: Corpus | Mapping[str, Corpus],
    options: EvalOptions | None = None,
    *,
    subjects: Mapping[str, Subject] | None = None,
) -> Report:
    """Score one or more prediction corpora against the gold.

    With several runs, each later run is compared with the first by a paired bootstrap test of
    micro F1 in every category both have. ``subjects`` (by document id, as
    :func:`clinex.eval.subgroups.read_gold` reads them) adds scores per subgroup. Raises
    EvaluationError on misaligned ids or notes.
    """
    options = options or EvalOptions()
    runs_in = {"predictions": preds} if isinstance(preds, Corpus) else dict(preds)
    if not runs_in:
        raise EvaluationError("no predictions to evaluate", hint="give at least one --pred")
    doc_ids = list(gold.documents)
    indices = resample_indices(len(doc_ids), options.bootstrap, options.seed)
    sections = {d: Sections(doc.text) for d, doc in gold.documents.items()}
    scoped = scope(gold, types=options.types, categories=options.categories)
    runs = [_run(name, gold, pred, options, indices, sections, scoped) for name, pred in runs_in.items()]
    for run in runs:
        run.subgroups = subgroups(
            run.categories,
            doc_ids,
            subjects or {},
            samples=options.bootstrap,
            seed=options.seed,
            level=options.level,
            period=options.period,
            min_documents=options.min_group_documents,
        )
    tests: list[PairedTest] = []
    baseline = runs[0]
    for other in runs[1:]:
        for name, result in other.categories.items():
            if name in baseline.categories:
                tests.append(
                    paired_test(
                        baseline.categories[name].counts,
                        result.counts,
                        indices,
                        options.level,
                        category=name,
                        names=(baseline.name, other.name),
                    )
                )
    return Report(
        gold=gold.source,
        gold_format=gold.format,
        documents=len(doc_ids),
        options=asdict(options),
        runs=runs,
        tests=tests,
    )


def _run(
    name: str,
    gold: Corpus,
    pred: Corpus,
    options: EvalOptions,
    indices: NDArray[np.int64],
    sections: dict[str, Sections],
    scoped: Scope,
) -> RunResult:
    doc_ids = _align(gold, pred)
    _check_same_notes(gold, pred, doc_ids)
    categories: dict[str, CategoryResult] = {}
    unscored: list[str] = []
    matches: dict[str, list[DocMatch]] = {}
    for category in scoped.categories.values():
        per_doc = [match(gold.entities(d), pred.entities(d), category, options.match) for d in doc_ids]
        labels: dict[str, PRFScore] = {}
        for doc_match in per_doc:
            for label, score in doc_match.label_scores().items():
                labels[label] = labels.get(label, PRFScore()) + score
        result = _result(category.name, category.description, [m.score() for m in per_doc], labels)
        if not labels:
            unscored.append(category.name)
            continue
        matches[category.name] = per_doc
        categories[category.name] = result
    for set_name, category in scoped.code_sets.items():
        result = _code_set_result(set_name, category, gold, pred, doc_ids)
        if result.labels:
            categories[set_name] = result
        else:
            unscored.append(set_name)
    # Entities where the gold has spans, diagnoses where it has codes only, else what was matched.
    preferred = "entities" if gold.grounded else "diagnoses"
    reference = next((n for n in (preferred, *matches) if n in matches), preferred)
    reference_matches = matches.get(reference, [])
    slices = _slices(gold, doc_ids, reference_matches, sections)
    for result in (*categories.values(), *slices.values()):
        result.ci = confidence_intervals(result.counts, indices, options.level)
    return RunResult(
        name=name,
        source=pred.source,
        format=pred.format,
        reference=reference,
        categories=categories,
        slices=slices,
        assertion=_assertions(reference_matches) if reference_matches else None,
        calibration=_calibration(reference_matches, options.bins),
        calibration_by_type=_calibration_by_type(reference_matches, options.bins),
        examples=_examples(gold, pred, doc_ids, reference_matches, options.examples),
        unscored=unscored,
        types=scoped.types,
        types_from=scoped.types_from,
        not_evaluated=dict(scoped.not_evaluated),
    )


def _align(gold: Corpus, pred: Corpus) -> list[str]:
    """The document ids to score; raises EvaluationError naming ids found on one side only.

    Predictions for documents absent from the gold are always an error. Gold documents absent
    from the predictions are an error unless the prediction format is sparse, where absence
    means "nothing predicted".
    """
    problems = Problems(f"ids of {pred.source} against {gold.source}")
    for doc_id in pred.documents:
        if doc_id not in gold.documents:
            problems.add(pred.location(doc_id), f"id {doc_id!r} is not in the gold")
    if not pred.sparse:
        for doc_id in gold.documents:
            if doc_id not in pred.documents:
                problems.add(gold.location(doc_id), f"id {doc_id!r} has no prediction record")
    problems.raise_if_any(hint="gold and predictions must describe the same notes with the same ids")
    return list(gold.documents)


def _check_same_notes(gold: Corpus, pred: Corpus, doc_ids: list[str]) -> None:
    problems = Problems(f"note texts of {pred.source} against {gold.source}")
    for doc_id in doc_ids:
        pred_doc = pred.documents.get(doc_id)
        gold_text = gold.documents[doc_id].text
        if pred_doc is not None and gold_text and pred_doc.text and pred_doc.text != gold_text:
            problems.add(pred.location(doc_id), f"note {doc_id!r} differs from the gold's")
    problems.raise_if_any(
        hint="predictions must come from the same note texts as the gold (same ids, same text)"
    )


def _result(
    name: str, description: str, scores: list[PRFScore], labels: dict[str, PRFScore]
) -> CategoryResult:
    counts = np.array([[s.tp, s.fp, s.fn] for s in scores], dtype=np.int64).reshape(len(scores), 3)
    return CategoryResult(name=name, description=description, counts=counts, labels=labels)


def _code_set_result(
    name: str, category: Category, gold: Corpus, pred: Corpus, doc_ids: list[str]
) -> CategoryResult:
    scores, precisions = [], []
    labels: dict[str, PRFScore] = {}
    for doc_id in doc_ids:
        gold_set = code_set(gold.entities(doc_id), category)
        pred_entities = pred.entities(doc_id)
        pred_set = code_set(pred_entities, category)
        scores.append(set_score(gold_set, pred_set))
        precisions.append(average_precision(ranked_codes(pred_entities, category), gold_set))
        for code in gold_set | pred_set:
            labels[code] = labels.get(code, PRFScore()) + set_score(gold_set & {code}, pred_set & {code})
    description = f"document-level code sets: {category.description}"
    result = _result(name, description, scores, labels)
    result.map = mean_defined(precisions)
    return result


def _slices(
    gold: Corpus, doc_ids: list[str], matches: list[DocMatch], sections: dict[str, Sections]
) -> dict[str, CategoryResult]:
    """Counts split by a label of the entity or note; a pair goes where its gold entity goes."""
    if not matches:
        return {}
    labellers: list[Callable[[str, Entity], str]] = [
        lambda _d, e: f"assertion:{assertion_class(e.assertion)}"
    ]
    names = {
        sections[d].at(e.start) for d, m in zip(doc_ids, matches, strict=True) for e in (*m.gold, *m.pred)
    }
    if len(names) > 1:  # one section for everything would repeat the totals
        labellers.append(lambda d, e: f"section:{sections[d].at(e.start)}")
    if all(gold.documents[d].text for d in doc_ids):
        lengths = {d: _length_bucket(gold.documents[d]) for d in doc_ids}
        labellers.append(lambda d, _e: lengths[d])
    per_doc: dict[str, list[PRFScore]] = {}
    for index, (doc_id, m) in enumerate(zip(doc_ids, matches, strict=True)):
        for labeller in labellers:
            for g, _ in m.pairs:
                _cell(per_doc, labeller(doc_id, m.gold[g]), index, len(doc_ids)).tp += 1
            for g in m.unmatched_gold:
                _cell(per_doc, labeller(doc_id, m.gold[g]), index, len(doc_ids)).fn += 1
            for p in m.unmatched_pred:
                _cell(per_doc, labeller(doc_id, m.pred[p]), index, len(doc_ids)).fp += 1
    return {
        f"slice:{label}": _result(f"slice:{label}", label, scores, {label: sum(scores, PRFScore())})
        for label, scores in sorted(per_doc.items())
    }


def _cell(per_doc: dict[str, list[PRFScore]], label: str, index: int, n_docs: int) -> PRFScore:
    return per_doc.setdefault(label, [PRFScore() for _ in range(n_docs)])[index]


def _length_bucket(doc: Document) -> str:
    return next(name for name, low in LENGTH_BUCKETS if len(doc.text) >= low)


def _assertions(matches: list[DocMatch]) -> AssertionScores:
    scores = AssertionScores()
    for m in matches:
        for g, p in m.pairs:
            scores.add(m.gold[g].assertion, m.pred[p].assertion)
    return scores


def _calibration(matches: list[DocMatch], bins: int, entity_type: str | None = None) -> Calibration | None:
    """Reliability of the predictions' confidences (of one entity type, or all)."""
    confidences: list[float] = []
    correct: list[bool] = []
    for m in matches:
        paired = {p for _, p in m.pairs}
        for i, entity in enumerate(m.pred):
            if entity_type is None or entity.type == entity_type:
                confidences.append(entity.confidence)
                correct.append(i in paired)
    return calibration(confidences, correct, n_bins=bins) if confidences else None


def _calibration_by_type(matches: list[DocMatch], bins: int) -> dict[str, Calibration]:
    types = sorted({e.type for m in matches for e in m.pred})
    found = {t: _calibration(matches, bins, t) for t in types}
    return {t: c for t, c in found.items() if c is not None}


def _examples(
    gold: Corpus, pred: Corpus, doc_ids: list[str], matches: list[DocMatch], limit: int
) -> list[ErrorExample]:
    """Up to ``limit`` examples of each kind of error, in document order."""
    found: dict[str, list[ErrorExample]] = {"missed": [], "spurious": [], "assertion": []}
    for doc_id, m in zip(doc_ids, matches, strict=False):  # no matches where nothing was scored
        text = gold.documents[doc_id].text or _text_of(pred, doc_id)
        for g in m.unmatched_gold:
            found["missed"].append(_example(doc_id, "missed", m.gold[g], text, f"gold {m.gold_keys[g]}"))
        for p in m.unmatched_pred:
            found["spurious"].append(
                _example(doc_id, "spurious", m.pred[p], text, f"predicted {m.pred_keys[p]}")
            )
        for g, p in m.pairs:
            gold_class, pred_class = (
                assertion_class(m.gold[g].assertion),
                assertion_class(m.pred[p].assertion),
            )
            if gold_class != pred_class:
                detail = f"gold {gold_class}, predicted {pred_class}"
                found["assertion"].append(_example(doc_id, "assertion", m.gold[g], text, detail))
    return [example for kind in found.values() for example in kind[:limit]]


def _text_of(corpus: Corpus, doc_id: str) -> str:
    doc = corpus.documents.get(doc_id)
    return "" if doc is None else doc.text


def _example(doc_id: str, kind: str, entity: Entity, text: str, detail: str) -> ErrorExample:
    start, end = entity.start, entity.end
    if start is None or end is None or not text or end > len(text):
        before, span, after = "", entity.text, ""
    else:
        before, span, after = (
            text[max(0, start - _CONTEXT) : start],
            text[start:end],
            text[end : end + _CONTEXT],
        )
    return ErrorExample(
        doc_id=doc_id,
        kind=kind,
        entity_type=entity.type,
        start=start,
        end=end,
        detail=detail,
        before=before,
        span=span,
        after=after,
    )


def evaluate_paths(
    gold: Path,
    preds: Mapping[str, Path],
    *,
    gold_format: str | None = None,
    pred_format: str | None = None,
    text_dir: Path | None = None,
    options: EvalOptions | None = None,
) -> Report:
    """Read gold (with the subjects of its notes) and prediction files, formats detected unless
    given, and score them."""
    gold_corpus, subjects = read_gold(gold, format=gold_format, text_dir=text_dir)
    pred_corpora = {
        name: read_corpus(path, format=pred_format, text_dir=text_dir) for name, path in preds.items()
    }
    return evaluate(gold_corpus, pred_corpora, options, subjects=subjects)

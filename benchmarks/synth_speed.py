"""Speed of `clinex synth` with the template writer (target: 10,000 letters in under 2 minutes).

    .venv/bin/python benchmarks/synth_speed.py [--letters 10000] [--synthea 20 | --fhir DIR] [--seed 0]

Generates (or reads) the source patients once, then times ``generate_dataset`` with and without
the per-letter source/gold FHIR files, and prints the machine and a Markdown table. Source
generation with Synthea is not timed (it is a one-off per source).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import format_machine  # noqa: E402

from clinex.synth import SynthConfig, generate_dataset  # noqa: E402
from clinex.synth.sources import run_synthea  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument(
        "--synthea", type=int, default=20, help="patients to generate when no --fhir is given"
    )
    parser.add_argument("--fhir", type=Path, help="a directory of FHIR Bundles to use instead of Synthea")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = args.fhir or run_synthea(args.synthea, work / "synthea", seed=args.seed)
        rows = []
        for fhir_files in (False, True):
            started = time.perf_counter()
            card = generate_dataset(
                SynthConfig(
                    out_dir=work / f"ds-{fhir_files}",
                    letters=args.letters,
                    fhir=(source,),
                    seed=args.seed,
                    write_fhir=fhir_files,
                )
            )
            seconds = time.perf_counter() - started
            mentions = sum(n for per in card["entities"].values() for n in per.values())
            rows.append((fhir_files, card["letters"], mentions, seconds))
    print(format_machine())
    print()
    print(f"source: {args.fhir or f'{args.synthea} Synthea patients'}; writer template.v1; seed {args.seed}")
    print()
    print("| per-letter FHIR files | letters | gold mentions | seconds | letters/s |")
    print("|---|---|---|---|---|")
    for fhir_files, letters, mentions, seconds in rows:
        print(
            f"| {'yes' if fhir_files else 'no'} | {letters:,} | {mentions:,} | {seconds:.1f} | {letters / seconds:,.0f} |"
        )


if __name__ == "__main__":
    main()

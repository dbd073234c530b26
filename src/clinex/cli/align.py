"""`clinex align`: notes plus the codes recorded for them in, silver span annotations out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import stderr, user_errors

#: Skip messages printed on the terminal (all are in report.json).
SHOWN_SKIPS = 10


def align(
    notes: Annotated[
        Path,
        typer.Argument(
            help="Notes: any input `clinex extract` reads (.txt, a folder, JSONL, FHIR, Parquet);"
            " a folder of FHIR Bundles is read too."
        ),
    ],
    coded: Annotated[
        Path,
        typer.Argument(
            help="Codes recorded for the notes: FHIR resources (Bundle, NDJSON or a folder) that"
            " reference a note's Encounter or DocumentReference, or a TSV note_id<TAB>system<TAB>code,"
            " or note_id<TAB>code with --system."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for silver.jsonl, report.json and report.md.")
    ],
    system: Annotated[
        str | None,
        typer.Option(
            "--system",
            help="Code system of a two-column TSV: icd10cm, icd10pcs, loinc, rxnorm, snomed or a URI.",
        ),
    ] = None,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings/--no-embeddings",
            help="Search candidate phrases with MiniLM embeddings for codes no name, synonym,"
            " abbreviation or variant finds.",
        ),
    ] = True,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Cosine similarity an embedding match needs (default: measured, 0.75)."
        ),
    ] = None,
) -> None:
    """Align coded data to the words of its notes: silver spans with codes, and a report."""
    from clinex.align import run_align

    with user_errors():
        report = run_align(notes, coded, out, system=system, embeddings=embeddings, threshold=threshold)
    for message in report["skipped"]["first"][:SHOWN_SKIPS]:
        stderr.print(f"skipped: {message}", markup=False, highlight=False)
    more = report["skipped"]["total"] - min(SHOWN_SKIPS, len(report["skipped"]["first"]))
    if more > 0:
        stderr.print(f"... and {more} more skipped (see {out / 'report.json'})", markup=False)
    share = report["share_grounded"]
    stderr.print(
        f"{report['grounded']} of {report['codes']} codes grounded"
        + (f" ({100 * share:.1f}%)" if share is not None else "")
        + f" in {report['notes']['aligned']} notes; {report['implicit']} implicit;"
        f" wrote {out / 'silver.jsonl'}, report.json, report.md",
        markup=False,
    )

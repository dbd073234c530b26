"""FHIR R4 Bundles (``clinex extract --format fhir``, or any producer's) as a corpus.

Each Bundle becomes a Document by :func:`clinex.fhir.parse.bundle_to_document`; a Bundle of
Bundles gives one Document per inner Bundle. Resources are then compared by type, code,
assertion and span like any other corpus.
"""

from __future__ import annotations

from pathlib import Path

from clinex.core.errors import FHIRError
from clinex.core.types import Document
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems
from clinex.fhir.io import JsonProblem, bundle_entries, read_json_file
from clinex.fhir.parse import bundle_to_document


def read_fhir(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read Bundles from a ``.json`` file, an NDJSON file (one a line) or a folder of ``.json``."""
    problems = Problems(path.name)
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for item in (item for file in files for item in read_json_file(file)):
        if isinstance(item, JsonProblem):
            problems.add(item.where, item.reason)
            continue
        where, resource = item.where, item.value
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind != "Bundle":
            problems.add(where, f"resourceType {kind!r}, expected Bundle")
            continue
        try:
            inner = [e.resource for e in bundle_entries(resource, where=where)]
            nested = [r for r in inner if r is not None and r["resourceType"] == "Bundle"]
            docs = [
                bundle_to_document(bundle, default_id=Path(where.split(":")[0]).stem, where=where)
                for bundle in nested or [resource]
            ]
        except FHIRError as exc:
            # The message starts with ``where`` already; the problem list names it once.
            problems.add(where, exc.message.removeprefix(f"{where}: ").removeprefix(f"{where} "))
            continue
        for doc in docs:
            if doc.id in documents:
                problems.add(where, f"id {doc.id!r} repeats {locations[doc.id]}")
                continue
            doc.text = doc.text or note_text(text_dir, doc.id)
            documents[doc.id] = doc
            locations[doc.id] = where
    problems.raise_if_any(hint="give FHIR R4 Bundles as written by `clinex extract --format fhir`")
    return Corpus(documents=documents, source=path.name, format="fhir", locations=locations)

"""CodiEsp TSV: ``article_id<TAB>code`` a line, document-level codes without spans.

``*D.tsv`` holds ICD-10-CM diagnoses, ``*P.tsv`` ICD-10-PCS procedures. A prediction file may
add a third column with a confidence; lines without one keep their order, which is the rank.
"""

from __future__ import annotations

from pathlib import Path

from clinex.core.systems import ICD10CM, ICD10PCS
from clinex.core.types import Code, Document, Entity, EntityType
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems
from clinex.terminology.icd10cm import looks_like_icd, normal_code


def codiesp_files(path: Path) -> list[Path]:
    """The TSV files a CodiEsp path stands for: the file itself, or a split folder's D/P files."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.tsv") if p.stem.endswith(("D", "P")))
    return [path]


def read_codiesp(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read CodiEsp code lists (a file, or a split folder with ``*D.tsv``/``*P.tsv``)."""
    files = codiesp_files(path)
    problems = Problems(path.name)
    if not files:
        problems.add(str(path), "no *D.tsv or *P.tsv file")
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    for tsv in files:
        entity_type: EntityType = "procedure" if tsv.stem.endswith("P") else "condition"
        system = ICD10PCS if entity_type == "procedure" else ICD10CM
        for number, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{tsv.name}:{number}"
            columns = line.rstrip("\n").split("\t")
            if len(columns) not in (2, 3) or not columns[0].strip():
                problems.add(where, f"{len(columns)} columns, expected id<TAB>code[<TAB>confidence]")
                continue
            doc_id, raw_code = columns[0].strip(), columns[1].strip()
            if not looks_like_icd(normal_code(raw_code), system):
                problems.add(where, "not an ICD-10 code")
                continue
            confidence = 1.0
            if len(columns) == 3:
                try:
                    confidence = float(columns[2])
                except ValueError:
                    confidence = -1.0
                if not 0.0 <= confidence <= 1.0:
                    problems.add(where, "confidence is not a number in 0..1")
                    continue
            doc = documents.get(doc_id)
            if doc is None:
                doc = documents[doc_id] = Document(text=note_text(text_dir, doc_id), id=doc_id)
                locations[doc_id] = where
            doc.entities.append(
                Entity(
                    type=entity_type,
                    text=raw_code,
                    alignment="none",
                    code=Code(system=system, code=raw_code),
                    confidence=confidence,
                )
            )
    problems.raise_if_any(hint="CodiEsp files hold article_id<TAB>code lines (e.g. S0004-...-1<TAB>n44.8)")
    if text_dir is not None:
        # Notes without any code are documents too: they count against every prediction.
        for txt in sorted(text_dir.glob("*.txt")):
            if txt.stem not in documents:
                documents[txt.stem] = Document(text=txt.read_text(encoding="utf-8"), id=txt.stem)
    return Corpus(documents=documents, source=path.name, format="codiesp", locations=locations, sparse=True)


def write_codiesp(documents: list[Document], path: Path, *, entity_type: EntityType = "condition") -> None:
    """Write the codes of one entity type as CodiEsp TSV, with confidences in a third column."""
    with path.open("w", encoding="utf-8") as out:
        for doc in documents:
            for entity in doc.entities:
                if entity.type == entity_type and entity.code is not None:
                    out.write(f"{doc.id}\t{entity.code.code.lower()}\t{entity.confidence:.4f}\n")

"""Note texts kept beside annotations (``--text DIR`` holding ``<id>.txt``)."""

from __future__ import annotations

from pathlib import Path


def note_text(text_dir: Path | None, doc_id: str) -> str:
    """The note ``<id>.txt`` in ``text_dir``, or "" where there is none."""
    if text_dir is None:
        return ""
    path = text_dir / f"{doc_id}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else ""

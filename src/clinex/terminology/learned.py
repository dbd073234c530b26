"""A code linker learned from a hospital's own coded notes: how its coders name each mention.

:func:`build_linker` reads clinex JSONL whose grounded entities carry codes — the silver of
``clinex align``, gold exported by the review service (records with ``meta.review``), synthetic
gold — and counts, per code system and normalised mention text (:func:`normalise_term`: case,
accents, punctuation and spacing ignored), how often each code was given: so "prior MI" →
I25.2 ×8, I21.9 ×1 where that is how this hospital codes it, and a specificity its coders use
(a side, a type, a stage: the child code they pick for a mention) comes from the data, never
from a hand-written rule. Optionally (``embed``) the mention texts are embedded, so that an
unseen paraphrase borrows the counts of its nearest learned mention (:data:`MIN_NEIGHBOUR_SIMILARITY`).

The normaliser asks :meth:`LearnedLinker.decide` after the terminology has proposed a code and
its score, and takes the learned code only where the evidence is stronger (:meth:`decide` has
the rule): the terminology's own answer counts as :data:`PRIOR_WEIGHT` × its score observations
of its code, so an exact name (score 1.0) loses only to a mention coded otherwise consistently
and often, while a mention the terminology cannot name is coded from a few consistent
observations.

The file (:func:`load_linker`) is JSON: ``format``, ``built`` (clinex version and, per source
file, its path, sha256, records and pairs read), ``counts``, and per system the mention → code →
count table and each code's display; embeddings, where built, lie beside it in a ``.npy`` whose
sha256 the JSON records. :attr:`LearnedLinker.digest` is the sha256 of the JSON bytes: what a
Document's provenance records.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clinex.core.errors import ConfigError, InputError
from clinex.core.serialize import document_from_record
from clinex.core.systems import ICD10CM
from clinex.terminology._index import normalise_term
from clinex.terminology.base import SYNONYM_SCORE

#: The file format this module writes and reads.
FORMAT = "clinex-linker/1"
#: Observations of its code the terminology's own answer is worth, times its score (1.0 exact).
PRIOR_WEIGHT = 4.0
#: A learned code that refines the terminology's (same ICD-10-CM category: a side, a type, a
#: stage) contradicts it less than another disease does, so it must beat this share of the prior.
REFINEMENT_FACTOR = 0.5
#: Fewer observations of a mention than this never override the terminology.
MIN_OBSERVATIONS = 3
#: The learned code's share of the mention's observations, at least: a majority, not a plurality.
MIN_SHARE = 0.6
#: An unseen mention borrows a learned mention's counts only this similar (cosine) or more.
MIN_NEIGHBOUR_SIMILARITY = 0.9
#: A learned code is never as sure as an exact name: its score stays at most a synonym's.
MAX_LEARNED_SCORE = SYNONYM_SCORE

#: Embeds texts as L2-normalised rows (the encoder's MiniLM sentence embedder fits).
Embed = Callable[[Sequence[str]], "np.ndarray[Any, Any]"]


@dataclass(frozen=True, slots=True)
class Linked:
    """The linker's code for a mention: code, display, score (0..1) and how it was found."""

    code: str
    display: str | None
    score: float
    method: str  # "exact": this mention was seen; "neighbour": a similar one was


class LearnedLinker:
    """(mention → code) counts per code system, with an optional neighbour search."""

    def __init__(
        self,
        table: Mapping[str, Mapping[str, Mapping[str, int]]],
        displays: Mapping[str, Mapping[str, str]],
        *,
        built: Mapping[str, Any],
        digest: str,
        vectors: np.ndarray[Any, Any] | None = None,
        embed: Embed | None = None,
    ) -> None:
        self.table = {system: {k: dict(v) for k, v in rows.items()} for system, rows in table.items()}
        self.displays = {system: dict(rows) for system, rows in displays.items()}
        self.built = dict(built)
        #: sha256 of the linker file's JSON bytes.
        self.digest = digest
        self._keys = [(system, key) for system in sorted(self.table) for key in sorted(self.table[system])]
        self._vectors = vectors
        self._embed = embed

    @property
    def pairs(self) -> int:
        """How many (mention, code) observations the linker holds."""
        return sum(n for rows in self.table.values() for counts in rows.values() for n in counts.values())

    def with_embedder(self, embed: Embed | None) -> LearnedLinker:
        """This linker searching neighbours with ``embed`` (where it was built with embeddings)."""
        return LearnedLinker(
            self.table,
            self.displays,
            built=self.built,
            digest=self.digest,
            vectors=self._vectors,
            embed=embed,
        )

    @property
    def searches_neighbours(self) -> bool:
        """Whether unseen mentions are matched to similar learned ones."""
        return self._vectors is not None and self._embed is not None

    def provenance(self) -> dict[str, Any]:
        """What a Document's ``meta["linker"]`` records: digest, format, counts, sources."""
        return {
            "sha256": self.digest,
            "format": FORMAT,
            "pairs": self.pairs,
            "mentions": len(self._keys),
            "neighbours": self.searches_neighbours,
            "sources": [{"path": s["path"], "sha256": s["sha256"]} for s in self.built.get("sources", [])],
        }

    def decide(
        self, system: str, texts: Sequence[str], proposed: Sequence[tuple[str | None, float]]
    ) -> list[Linked | None]:
        """Per text, the learned code where it beats the terminology's ``proposed`` (code or
        None, score), else None (the terminology's answer stands).

        For a mention seen ``n`` times, its most frequent code ``c`` ``k`` times, and the
        terminology's code ``t`` seen ``k_t`` times with score ``s``: the prior ``α = PRIOR_WEIGHT
        × s`` (× REFINEMENT_FACTOR where ``c`` and ``t`` share an ICD-10-CM category; learned
        ICD-10-CM codes are first moved to their billable leaf, as the normaliser's are); ``c``
        wins where ``n ≥ MIN_OBSERVATIONS``, ``k / n ≥ MIN_SHARE`` and ``k > k_t + α``. Its
        score is ``c``'s posterior share, ``k / (n + α + 1)`` (one more pseudo-observation for
        a code never seen), at most :data:`MAX_LEARNED_SCORE`; a neighbour's is that times the
        similarity.
        """
        evidence = self._evidence(system, texts)
        out: list[Linked | None] = []
        for found, (term_code, term_score) in zip(evidence, proposed, strict=True):
            out.append(
                None if found is None else self._judge(system, *found, term=term_code, score=term_score)
            )
        return out

    def _judge(
        self,
        system: str,
        counts: Mapping[str, int],
        similarity: float,
        method: str,
        *,
        term: str | None,
        score: float,
    ) -> Linked | None:
        counts = _billable(system, counts)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        code, k = ranked[0]
        n = sum(counts.values())
        if code == term or (len(ranked) > 1 and ranked[1][1] == k):
            return None  # agreement keeps the terminology's score; a tie is no evidence
        prior = PRIOR_WEIGHT * score if term is not None else 0.0
        if term is not None and system == ICD10CM and term[:3] == code[:3]:
            prior *= REFINEMENT_FACTOR
        if n < MIN_OBSERVATIONS or k / n < MIN_SHARE or k <= counts.get(term or "", 0) + prior:
            return None
        learned = min(MAX_LEARNED_SCORE, k / (n + prior + 1.0)) * similarity
        return Linked(code, self.displays.get(system, {}).get(code), round(learned, 4), method)

    def _evidence(
        self, system: str, texts: Sequence[str]
    ) -> list[tuple[Mapping[str, int], float, str] | None]:
        """Per text, the counts it borrows, their similarity to it and how they were found."""
        rows = self.table.get(system, {})
        keys = [normalise_term(text) for text in texts]
        found: list[tuple[Mapping[str, int], float, str] | None] = [
            (rows[key], 1.0, "exact") if key in rows else None for key in keys
        ]
        unseen = [i for i, f in enumerate(found) if f is None and keys[i]]
        if unseen and self._vectors is not None and self._embed is not None:
            own = np.array([s == system for s, _ in self._keys], dtype=bool)
            if own.any():
                scores = self._embed([texts[i] for i in unseen]) @ self._vectors.T
                scores[:, ~own] = -1.0
                best = scores.argmax(axis=1)
                for row, i in enumerate(unseen):
                    similarity = float(scores[row, best[row]])
                    if similarity >= MIN_NEIGHBOUR_SIMILARITY:
                        found[i] = (rows[self._keys[int(best[row])][1]], min(1.0, similarity), "neighbour")
        return found


def build_linker(
    paths: Iterable[str | Path], out: str | Path, *, embed: Embed | None = None
) -> LearnedLinker:
    """Count the (mention → code) pairs of clinex JSONL files and write the linker to ``out``.

    Every grounded entity with a code is a pair (its system, its text normalised, its code;
    ICD-10-CM codes written dotted and upper case, as the terminology does). A malformed line
    raises InputError naming the file and line. With ``embed``, the mention texts are embedded
    into ``out`` with suffix ``.npy``, for the neighbour search.
    """
    table: dict[str, dict[str, Counter[str]]] = {}
    displays: dict[str, dict[str, str]] = {}
    surface: dict[tuple[str, str], str] = {}
    sources = []
    for path in map(Path, paths):
        records = pairs = 0
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path} ({exc.strerror})", hint="give clinex JSONL files") from None
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = document_from_record(json.loads(line))
            except (json.JSONDecodeError, InputError, ValueError, TypeError) as exc:
                why = (
                    "not JSON"
                    if isinstance(exc, json.JSONDecodeError)
                    else getattr(exc, "message", "malformed")
                )
                raise InputError(
                    f"{path}:{number}: {why}",
                    hint='each line must be {"id": ..., "entities": [...]} as in DESIGN.md',
                ) from None
            records += 1
            for entity in doc.entities:
                if entity.code is None or not entity.grounded or not normalise_term(entity.text):
                    continue
                system, code = entity.code.system, _canonical(entity.code.system, entity.code.code)
                key = normalise_term(entity.text)
                table.setdefault(system, {}).setdefault(key, Counter())[code] += 1
                surface.setdefault((system, key), entity.text)
                if entity.code.display:
                    displays.setdefault(system, {}).setdefault(code, entity.code.display)
                pairs += 1
        sources.append(
            {
                "path": str(path),
                "sha256": hashlib.sha256(data).hexdigest(),
                "records": records,
                "pairs": pairs,
            }
        )
    if not sources:
        raise ConfigError("no coded JSONL file given to build a linker from", hint="give one or more files")
    from clinex.terminology import versions

    out = Path(out)
    keys = [(system, key) for system in sorted(table) for key in sorted(table[system])]
    document: dict[str, Any] = {
        "format": FORMAT,
        "built": {"clinex_terminologies": versions(), "sources": sources},
        "counts": {"pairs": sum(s["pairs"] for s in sources), "mentions": len(keys)},
        "systems": {
            system: {
                "mentions": {key: dict(sorted(table[system][key].items())) for key in sorted(table[system])},
                "displays": dict(sorted(displays.get(system, {}).items())),
            }
            for system in sorted(table)
        },
        "embeddings": None,
    }
    vectors = None
    if embed is not None and keys:
        vectors = np.asarray(embed([surface[k] for k in keys]), dtype=np.float32)
        npy = out.with_suffix(".npy")
        np.save(npy, vectors.astype(np.float16))
        document["embeddings"] = {"file": npy.name, "sha256": _sha256(npy), "rows": len(keys)}
    blob = (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    out.write_bytes(blob)
    return _from_document(document, hashlib.sha256(blob).hexdigest(), vectors, embed)


def load_linker(path: str | Path, *, embed: Embed | None = None) -> LearnedLinker:
    """A linker file written by :func:`build_linker`; ConfigError for a missing or bad one (its
    embeddings are checked against the sha256 it records)."""
    path = Path(path)
    try:
        blob = path.read_bytes()
        document = json.loads(blob)
    except OSError:
        raise ConfigError(f"linker file {path} not found", hint="build one with build_linker") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(
            f"linker file {path} is not JSON", hint="build it again with build_linker"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConfigError(
            f"linker file {path} is not a {FORMAT} file", hint="build it again with build_linker"
        )
    vectors = None
    embeddings = document.get("embeddings")
    if embeddings:
        npy = path.with_name(str(embeddings["file"]))
        if not npy.is_file() or _sha256(npy) != embeddings["sha256"]:
            raise ConfigError(
                f"the embeddings of linker file {path} ({npy.name}) are missing or changed",
                hint="keep the .npy beside the linker file, or build both again",
            )
        vectors = np.load(npy).astype(np.float32)
    return _from_document(document, hashlib.sha256(blob).hexdigest(), vectors, embed)


def _from_document(
    document: Mapping[str, Any], digest: str, vectors: np.ndarray[Any, Any] | None, embed: Embed | None
) -> LearnedLinker:
    systems = document["systems"]
    return LearnedLinker(
        {system: rows["mentions"] for system, rows in systems.items()},
        {system: rows["displays"] for system, rows in systems.items()},
        built=document["built"],
        digest=digest,
        vectors=vectors,
        embed=embed,
    )


def _billable(system: str, counts: Mapping[str, int]) -> Mapping[str, int]:
    """ICD-10-CM counts on the billable leaves the normaliser codes to (a category with one
    default leaf, T14.8 → T14.8XXA, is that leaf: the same code, not a rival one)."""
    if system != ICD10CM:
        return counts
    from clinex.terminology.icd10cm import billable

    merged: Counter[str] = Counter()
    for code, n in counts.items():
        merged[billable(code)] += n
    return merged


def _canonical(system: str, code: str) -> str:
    """ICD-10-CM as the terminology writes it (``n44.8``/``N448`` → ``N44.8``); others as given."""
    if system != ICD10CM:
        return code.strip()
    bare = code.strip().upper().replace(".", "").replace(" ", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

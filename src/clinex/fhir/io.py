"""Walking FHIR JSON: the values in a file, the entries of a Bundle, and references between them.

The FHIR readers of clinex share it: :mod:`clinex.fhir.read` (the notes ``clinex extract``
reads), :mod:`clinex.fhir.parse` and :mod:`clinex.corpora.fhir` (``clinex evaluate``) and
:mod:`clinex.synth.sources` (``clinex synth``):

- :func:`read_json_file` yields the JSON values of one file: each line of an NDJSON file
  (``.ndjson``, ``.jsonl``; Bulk FHIR), else the whole file as one value, or its lines when it
  holds NDJSON under another name (``clinex extract > out.json`` writes one Bundle a line).
  A bad value is yielded as a :class:`JsonProblem` in its place, so one never stops the rest.
- :func:`bundle_entries` lists a Bundle's entries with their ``fullUrl``.
- :class:`References` resolves a ``Reference`` the way FHIR resolves it inside a Bundle: by
  ``fullUrl``, or ``Type/id`` (also the tail of an absolute URL). A ``urn:uuid:<id>`` also
  finds a resource whose id is that uuid, as clinex and Synthea give each resource the id of
  its fullUrl, so references resolve across the files of one export too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.core.errors import FHIRError

#: File suffixes read one JSON value a line.
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
_UUID_PREFIX = "urn:uuid:"


@dataclass(frozen=True, slots=True)
class JsonRecord:
    """One JSON value; ``where`` is the file name, with ``:line`` for NDJSON."""

    where: str
    value: Any


@dataclass(frozen=True, slots=True)
class JsonProblem:
    """A file or line that holds no JSON value; ``reason`` never quotes its content."""

    where: str
    reason: str


def read_json_file(path: Path) -> Iterator[JsonRecord | JsonProblem]:
    """The JSON values in one file (see the module docstring), in order."""
    if path.suffix.lower() in NDJSON_SUFFIXES:
        yield from _lines(path)
        return
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        yield JsonProblem(path.name, "not UTF-8 text")
        return
    except OSError as exc:
        yield JsonProblem(path.name, f"cannot read ({exc.strerror})")
        return
    try:
        yield JsonRecord(path.name, json.loads(text))
        return
    except json.JSONDecodeError:
        pass
    first = next((line for line in text.split("\n") if line.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        # Not NDJSON either (a truncated or hand-edited file): one problem, not one per line.
        yield JsonProblem(path.name, "malformed JSON")
        return
    yield from _lines(path)


def _lines(path: Path) -> Iterator[JsonRecord | JsonProblem]:
    number = 0
    try:
        with path.open(encoding="utf-8-sig") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}:{number}"
                try:
                    yield JsonRecord(where, json.loads(line))
                except json.JSONDecodeError:
                    yield JsonProblem(where, "malformed JSON")
    except UnicodeDecodeError:
        yield JsonProblem(f"{path.name}:{number + 1}", "not UTF-8 text")
    except OSError as exc:
        yield JsonProblem(path.name, f"cannot read ({exc.strerror})")


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One entry of a Bundle: its position, ``fullUrl`` and resource (None where it holds none)."""

    index: int
    full_url: str | None
    resource: dict[str, Any] | None


def bundle_entries(bundle: dict[str, Any], *, where: str) -> list[BundleEntry]:
    """The entries of a Bundle in order; raises FHIRError when ``Bundle.entry`` is not a list."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FHIRError(f"{where}: Bundle.entry is not a list", hint="check the Bundle against FHIR R4")
    found = []
    for index, entry in enumerate(entries):
        entry = entry if isinstance(entry, dict) else {}
        full_url = entry.get("fullUrl")
        resource = entry.get("resource")
        if not (isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)):
            resource = None
        found.append(BundleEntry(index, full_url if isinstance(full_url, str) else None, resource))
    return found


class References:
    """Resources by the references that may name them (see the module docstring).

    A resource added later under the same reference replaces the earlier one.
    """

    def __init__(self, entries: Iterable[BundleEntry] = ()) -> None:
        self._by_reference: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if entry.resource is not None:
                self.add(entry.resource, full_url=entry.full_url)

    def add(self, resource: dict[str, Any], *, full_url: str | None = None) -> None:
        """Make ``resource`` resolvable by its ``fullUrl`` and its ``Type/id``."""
        if full_url:
            self._by_reference[full_url] = resource
        resource_id = resource.get("id")
        if isinstance(resource_id, str):
            self._by_reference[f"{resource['resourceType']}/{resource_id}"] = resource
            self._by_reference.setdefault(f"{_UUID_PREFIX}{resource_id}", resource)

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        """The resource a ``Reference`` (or its ``reference`` string) names, or None."""
        if isinstance(reference, dict):
            reference = reference.get("reference")
        if not isinstance(reference, str) or not reference:
            return None
        found = self._by_reference.get(reference)
        if found is None and "://" in reference:
            # An absolute URL ("https://server/fhir/Patient/7") names Patient/7.
            found = self._by_reference.get("/".join(reference.rsplit("/", 2)[-2:]))
        return found

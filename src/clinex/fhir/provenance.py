"""Document.meta ↔ a FHIR R4 Provenance and the Device it names: which software, model and
settings produced the extracted resources (DESIGN.md: every fact traced to its model).

- **Device** (the agent): the software as configured for the run. ``deviceName`` is
  ``clinex <extractor>`` (user-friendly-name) and the model's name (model-name); ``version``
  has an entry for clinex, the extractor and each scalar the model declares (version, checksum,
  prompt version), for people and FHIR searches; the whole meta, as compact JSON, is the
  ``run-meta`` extension (valueString), for readers: :func:`read_meta` gets back exactly what
  the pipeline recorded, nested values included, which ``Device.property`` (codes and
  quantities only) could not hold. Its id is a UUIDv5 of that JSON, so every note of one run
  names the same Device, and a transaction Bundle PUTs it (loading a thousand notes makes one
  Device, and "what did this model produce" is one search on the agent).
- **Provenance**: ``target`` every extracted resource (the note's DocumentReference when nothing
  was extracted, as R4 needs a target: "this model found nothing here" is a result too);
  ``agent`` the Device with type ``author``; ``entity`` the DocumentReference, role ``source``;
  ``activity`` v3-DataOperation ``CREATE``. A checked note's plausibility findings
  (``meta["checks"]``, per note, so not in the Device) are its ``plausibility-count`` and
  ``plausibility-checks`` extensions; :func:`read_meta` puts them back into the meta.
- **recorded** is required by R4, but a Bundle must be the same for the same input (tests,
  resumable batches, diffs), so no clock time may go in, and clinex's DocumentReference carries
  no date to use. The element is therefore present with a data-absent-reason extension
  (``unsupported``) instead of a value, as FHIR allows for any element; ``occurred[x]`` is left
  out for the same reason.

A Document with no meta (built by hand, or synthetic gold) gets neither resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from clinex.core.errors import FHIRError
from clinex.fhir.extensions import EXTRACTOR_STATS as EXTRACTOR_STATS_URL
from clinex.fhir.extensions import PLAUSIBILITY_CHECKS, PLAUSIBILITY_COUNT, RUN_META
from clinex.fhir.io import References

PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: The key of ``Document.meta`` holding the note's plausibility findings (:mod:`clinex.plausibility`).
CHECKS = "checks"
#: The key of ``Document.meta`` holding the extractor's counters for the note (the llm extractor's
#: windows, failed windows, repairs ...).
EXTRACTOR_STATS = "extractor_stats"
#: The meta keys that describe one note, not the run: on the Provenance, not in the shared Device.
NOTE_KEYS: dict[str, str] = {CHECKS: PLAUSIBILITY_CHECKS, EXTRACTOR_STATS: EXTRACTOR_STATS_URL}


def run_json(meta: dict[str, Any], *, doc_id: str) -> str:
    """``meta`` as the compact, key-sorted JSON the Device carries (and is named after), less
    the note's own :data:`NOTE_KEYS`, so that every note of a run names one Device."""
    run = {key: value for key, value in meta.items() if key not in NOTE_KEYS}
    try:
        return json.dumps(run, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise FHIRError(
            f"Document.meta of note {doc_id!r} is not JSON ({type(exc).__name__})",
            hint="keep meta to strings, numbers, booleans, lists and mappings",
        ) from None


def device(meta: dict[str, Any], run: str) -> dict[str, Any]:
    """The Device standing for the software and model of the run (without an id)."""
    extractor = meta.get("extractor")
    model: dict[str, Any] = meta["model"] if isinstance(meta.get("model"), dict) else {}
    names = [{"name": f"clinex {extractor}" if extractor else "clinex", "type": "user-friendly-name"}]
    if model.get("name"):
        names.append({"name": str(model["name"]), "type": "model-name"})
    versions = [("clinex", meta.get("clinex_version")), ("extractor", extractor)]
    versions += [(f"model {key}", value) for key, value in model.items() if key != "name"]
    result: dict[str, Any] = {
        "resourceType": "Device",
        "extension": [{"url": RUN_META, "valueString": run}],
        "deviceName": names,
    }
    shown = [
        {"type": {"text": kind}, "value": str(value)}
        for kind, value in versions
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value)
    ]
    if shown:  # FHIR JSON has no empty arrays
        result["version"] = shown
    return result


def provenance(
    *,
    device_url: str,
    note_url: str,
    targets: Iterable[str],
    checks: list[Any] | None = None,
    stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Provenance of the extracted resources at ``targets`` (without an id); ``checks``, the
    note's plausibility findings where it was checked, as a count and as JSON extensions;
    ``stats``, the extractor's counters for the note, as a JSON extension."""
    record: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [{"reference": url} for url in (list(targets) or [note_url])],
        "_recorded": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unsupported"}]},
        "activity": {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}]},
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author", "display": "Author"}]},
                "who": {"reference": device_url},
            }
        ],
        "entity": [{"role": "source", "what": {"reference": note_url}}],
    }
    extensions: list[dict[str, Any]] = []
    if checks is not None:
        extensions += [
            {"url": PLAUSIBILITY_COUNT, "valueInteger": len(checks)},
            {
                "url": PLAUSIBILITY_CHECKS,
                "valueString": json.dumps(checks, separators=(",", ":"), ensure_ascii=False),
            },
        ]
    if stats:
        extensions.append({"url": EXTRACTOR_STATS_URL, "valueString": json.dumps(stats, sort_keys=True)})
    if extensions:
        record["extension"] = extensions
    return record


def read_meta(resource: dict[str, Any], references: References) -> dict[str, Any] | None:
    """The meta a clinex Provenance records (through its Device), or None for any other resource."""
    if resource["resourceType"] != "Provenance":
        return None
    for agent in resource.get("agent") or []:
        agent_device = references.resolve(agent.get("who"))
        for extension in (agent_device or {}).get("extension") or []:
            if extension.get("url") == RUN_META:
                meta = json.loads(extension["valueString"])
                if not isinstance(meta, dict):
                    raise ValueError("run-meta is not a JSON object")
                return meta | _note_meta(resource)
    return None


def _note_meta(resource: dict[str, Any]) -> dict[str, Any]:
    """The :data:`NOTE_KEYS` a Provenance records (``{"checks": [...], ...}``), or ``{}``."""
    out: dict[str, Any] = {}
    urls = {url: key for key, url in NOTE_KEYS.items()}
    for extension in resource.get("extension") or []:
        key = urls.get(extension.get("url", ""))
        if key is not None:
            value = json.loads(extension["valueString"])
            if not isinstance(value, list if key == CHECKS else dict):
                raise ValueError(f"{key} is not a JSON {'list' if key == CHECKS else 'object'}")
            out[key] = value
    return out

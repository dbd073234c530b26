"""Validation of produced (and given) FHIR resources against the FHIR R4 models (fhir.resources R4B).

Problems are reported by location and error type only: pydantic messages may quote values,
and values hold note text.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clinex.core.errors import FHIRError

_SHOWN = 3


def validate_resource(resource: Any, *, where: str = "resource") -> None:
    """Parse one resource with its R4B model; raises FHIRError naming the first problems."""
    problems = resource_problems(resource, where=where)
    if problems:
        raise FHIRError(
            _summary(problems), hint="this is a bug if clinex produced the resource; please report it"
        )


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Check a Bundle: the Bundle model (which parses every entry's resource with its own model)
    and that every ``urn:uuid:`` reference points at an entry of the bundle. Raises FHIRError."""
    problems = resource_problems(bundle, where="Bundle")
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if isinstance(entries, list):
        full_urls = {e.get("fullUrl") for e in entries if isinstance(e, dict)}
        for index, entry in enumerate(entries):
            for reference in _references(entry.get("resource") if isinstance(entry, dict) else None):
                if reference.startswith("urn:uuid:") and reference not in full_urls:
                    problems.append(f"Bundle: entry[{index}]: reference {reference} is not in the bundle")
    if problems:
        raise FHIRError(
            _summary(problems), hint="this is a bug if clinex produced the bundle; please report it"
        )


def resource_problems(resource: Any, *, where: str) -> list[str]:
    """Human-readable problems of one resource (empty if it is valid)."""
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return [f"{where}: not a FHIR resource (no resourceType)"]
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except ValueError:
        return [f"{where}: unknown resourceType {resource['resourceType']!r}"[:200]]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [f"{where}: {_location(error['loc'])}: {error['type']}" for error in exc.errors()]
    return []


def _location(loc: tuple[int | str, ...]) -> str:
    return (
        ".".join(f"[{part}]" if isinstance(part, int) else part for part in loc).replace(".[", "[")
        or "(root)"
    )


def _summary(problems: list[str]) -> str:
    more = f" (+{len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    return f"invalid FHIR: {'; '.join(problems[:_SHOWN])}{more}"


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_references(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_references(item))
    return found

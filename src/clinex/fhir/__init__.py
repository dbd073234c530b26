"""FHIR R4 (R4B models): Document → Bundle mapping, validation, and reading notes from FHIR input.

Extension URLs and code choices are listed in :mod:`clinex.fhir.extensions`.
"""

from clinex.fhir.bundle import document_to_bundle
from clinex.fhir.read import FhirNote, notes_from_fhir
from clinex.fhir.validate import validate_bundle, validate_resource

__all__ = ["FhirNote", "document_to_bundle", "notes_from_fhir", "validate_bundle", "validate_resource"]

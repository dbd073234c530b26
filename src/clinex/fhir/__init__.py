"""FHIR R4 (R4B models): Document → Bundle and back, validation, and reading notes from FHIR input.

Extension URLs and code choices are listed in :mod:`clinex.fhir.extensions`.
"""

from clinex.fhir.bundle import document_to_bundle
from clinex.fhir.parse import bundle_to_document
from clinex.fhir.read import FhirNote, notes_from_fhir
from clinex.fhir.validate import validate_bundle, validate_resource

__all__ = [
    "FhirNote",
    "bundle_to_document",
    "document_to_bundle",
    "notes_from_fhir",
    "validate_bundle",
    "validate_resource",
]

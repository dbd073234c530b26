"""clinex: clinical narrative → grounded, coded FHIR R4 data."""

from clinex import _builtins  # noqa: F401  (registers the shipped components)
from clinex.core.errors import (
    BackendError,
    ClinexError,
    ConfigError,
    EmptyNoteError,
    EvaluationError,
    FHIRError,
    InputError,
    ModelError,
    OutputParseError,
    TerminologyError,
    UnknownNameError,
)
from clinex.core.extractor import Extractor
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.pipeline import extract, load_extractor

__version__ = "0.1.0"

__all__ = [
    "Assertion",
    "BackendError",
    "ClinexError",
    "Code",
    "ConfigError",
    "Document",
    "EmptyNoteError",
    "Entity",
    "EvaluationError",
    "Extractor",
    "FHIRError",
    "InputError",
    "ModelError",
    "OutputParseError",
    "TerminologyError",
    "UnknownNameError",
    "__version__",
    "extract",
    "load_extractor",
]

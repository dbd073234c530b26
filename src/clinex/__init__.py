"""clinex: clinical narrative → grounded, coded FHIR R4 data."""

from clinex import _builtins  # noqa: F401  (registers the shipped components)
from clinex.core.errors import (
    BackendError,
    ClinexError,
    ConfigError,
    ContextLengthError,
    EmptyNoteError,
    EvaluationError,
    FHIRError,
    InputError,
    InternalError,
    ModelError,
    NoteTooLargeError,
    OutputParseError,
    TerminologyError,
    UnknownNameError,
)
from clinex.core.extractor import Extractor
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.pipeline import NoteInput, extract, extract_many, load_extractor

__version__ = "0.1.0"

__all__ = [
    "Assertion",
    "BackendError",
    "ClinexError",
    "Code",
    "ConfigError",
    "ContextLengthError",
    "Document",
    "EmptyNoteError",
    "Entity",
    "EvaluationError",
    "Extractor",
    "FHIRError",
    "InputError",
    "InternalError",
    "ModelError",
    "NoteInput",
    "NoteTooLargeError",
    "OutputParseError",
    "TerminologyError",
    "UnknownNameError",
    "__version__",
    "extract",
    "extract_many",
    "load_extractor",
]

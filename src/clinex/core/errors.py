"""The one exception root of clinex and its hierarchy.

    ClinexError                 every error clinex raises on purpose (has .code and .hint)
    ├── InternalError           an invariant broke inside clinex or a plugin: a bug, not the user's input
    ├── InputError              a note, file or record a user gave is unusable
    │   ├── EmptyNoteError      the note holds no text
    │   └── NoteTooLargeError   the note is longer than a batch engine's limit
    ├── ConfigError             a config value or option is wrong
    │   └── UnknownNameError    a registry name (extractor, backend, terminology) is unknown
    ├── TerminologyError        a terminology file is missing or malformed
    ├── ModelError              a model file is missing, corrupt or incompatible
    ├── BackendError            an LLM backend failed (unreachable, timeout, refusal)
    │   ├── OutputParseError    the model's answer could not be parsed, even after repair
    │   └── ContextLengthError  the prompt does not fit the model's context (the caller may split)
    ├── FHIRError               FHIR input is malformed, or a produced resource is invalid
    ├── EvaluationError         gold and predictions cannot be compared
    ├── ReviewError             a review request does not fit what is stored
    │   ├── NotFoundError       no such document, fact or job
    │   ├── ConflictError       the request clashes with a stored state (a document id taken)
    │   ├── StaleVersionError   a decision was made on an older version of the fact (.current)
    │   ├── ReviewOpenError     an export while a review the policy requires is open
    │   └── UnknownCodeError    a code its terminology does not hold (.nearest)
    └── AccessError             the service refuses the caller
        ├── AuthenticationError no key, or an unknown or revoked one
        ├── PermissionDeniedError the key's role may not do this
        ├── BodyTooLargeError   a request body above the configured limit
        ├── TooBusyError        every extraction slot is taken (.retry_after seconds)
        └── ExtractionTimeoutError an extraction ran past the time limit

Messages never contain note text: they name the input (file, id, line) instead. Where a
lower-level exception caused the error, its *type* is kept (``original_type``), never its message,
which may quote the note.
"""

from __future__ import annotations


class ClinexError(Exception):
    """Root of all clinex errors: a one-line message, a stable code and a hint."""

    code = "E000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


class InternalError(ClinexError):
    """A bug in clinex or in a plugin (an extractor returned a span that is not its text, ...)."""

    code = "E001"


class InputError(ClinexError):
    code = "E100"


class EmptyNoteError(InputError):
    code = "E101"


class NoteTooLargeError(InputError):
    code = "E102"


class ConfigError(ClinexError):
    code = "E200"


class UnknownNameError(ConfigError):
    code = "E201"


class TerminologyError(ClinexError):
    code = "E300"


class ModelError(ClinexError):
    code = "E400"


class BackendError(ClinexError):
    """An LLM backend failed; ``backend`` names it, ``original_type`` the exception behind it."""

    code = "E500"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        backend: str | None = None,
        original_type: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.backend = backend
        self.original_type = original_type


class OutputParseError(BackendError):
    code = "E501"


class ContextLengthError(BackendError):
    """The prompt does not fit the model's context window; the caller may split the note."""

    code = "E502"


class FHIRError(ClinexError):
    code = "E600"


class EvaluationError(ClinexError):
    code = "E700"


class ReviewError(ClinexError):
    code = "E800"


class NotFoundError(ReviewError):
    code = "E801"


class ConflictError(ReviewError):
    code = "E802"


class StaleVersionError(ReviewError):
    """A decision named a version of the fact that is no longer current; ``current`` is the
    fact as it stands now (what the service sends back with the 409)."""

    code = "E803"

    def __init__(self, message: str, *, current: object, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.current = current


class ReviewOpenError(ReviewError):
    code = "E804"


class UnknownCodeError(ReviewError):
    """A code its terminology does not hold; ``nearest`` lists the closest codes it does
    (``{"system", "code", "display"}`` each)."""

    code = "E805"

    def __init__(self, message: str, *, nearest: list[dict[str, str]], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.nearest = nearest


class AccessError(ClinexError):
    code = "E900"


class AuthenticationError(AccessError):
    code = "E901"


class PermissionDeniedError(AccessError):
    code = "E902"


class BodyTooLargeError(AccessError):
    code = "E903"


class TooBusyError(AccessError):
    """Every extraction slot is taken; ``retry_after`` is the seconds to wait (Retry-After)."""

    code = "E904"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class ExtractionTimeoutError(AccessError):
    code = "E905"

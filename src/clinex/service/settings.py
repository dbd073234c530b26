"""The review service's settings: a config dataclass (YAML + ``--set`` overrides through the one
parser of clinex.core.config), so a hospital can keep its service set-up in a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinex.core.config import build_config, option, parse_overrides, read_yaml
from clinex.review.policy import ReviewPolicy

#: Where the service keeps its database when none is given: a SQLite file in the current directory.
DEFAULT_DB = "clinex.db"


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    db: str = option(DEFAULT_DB, "database: a SQLite file path, or a postgresql:// URL")
    extractor: str = option("encoder", "extractor every job runs (rules, encoder, llm or a plugin's)")
    calibration: str = option("default", "confidence calibration: default, none or a calibrator file")
    workers: int = option(1, "extraction processes; each loads the model once")
    queue: int = option(4, "POST /extract requests that may wait beyond the running ones; more get 429")
    retry_after_s: int = option(5, "the Retry-After a 429 answers")
    extraction_timeout_s: float = option(120.0, "a note still extracting after this is stopped and failed")
    max_body_bytes: int = option(5_000_000, "request bodies above this are refused with 413 unread")
    cors_origins: tuple[str, ...] = option((), "origins allowed cross-site; none (CORS off) by default")
    review: dict[str, Any] = option(  # noqa: RUF009 — option() gives a dict a default_factory
        {}, "review policy: review_below, types, flags, chapters, auto_accept_above (README)"
    )

    def __post_init__(self) -> None:
        for name in ("workers", "retry_after_s", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.queue < 0:
            raise ValueError(f"queue must be 0 or more, got {self.queue}")
        if self.extraction_timeout_s <= 0:
            raise ValueError(f"extraction_timeout_s must be positive, got {self.extraction_timeout_s}")
        if not isinstance(self.review, dict):
            raise ValueError("review must be a mapping of policy options")

    @property
    def policy(self) -> ReviewPolicy:
        return ReviewPolicy.from_mapping(self.review)


def load_settings(config: Path | None = None, overrides: Sequence[str] = (), **given: Any) -> ServiceSettings:
    """Settings from a YAML file, then ``key=value`` overrides (``review.<option>=value`` for one
    option of the review policy), then the options given here (the CLI's flags, None meaning
    not given); ConfigError names an unknown key or bad value, and a bad review policy is
    refused here, before the server starts."""
    values = read_yaml(config) if config is not None else {}
    for key, value in parse_overrides(overrides).items():
        # review.<option>=... sets one option of the review policy
        if key.startswith("review."):
            values["review"] = {**values.get("review", {}), key.removeprefix("review."): value}
        else:
            values[key] = value
    values |= {key: value for key, value in given.items() if value is not None}
    settings = build_config(
        ServiceSettings,
        values,
        source=str(config or "service settings"),
        help_hint="see `clinex serve --help`",
    )
    settings.policy  # noqa: B018 — checked now: a wrong policy must stop the start, not the first job
    return settings

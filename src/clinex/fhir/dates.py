"""Dates as written in notes → FHIR ``dateTime`` strings (YYYY, YYYY-MM or YYYY-MM-DD).

Slash dates are read month first (US, like ICD-10-CM) unless the first number exceeds 12.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>[A-Za-z]{3,9})\.?"
_PATTERNS = [
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$"),
    re.compile(r"^(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4})$"),
    re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})$"),
    re.compile(rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})$"),
    re.compile(rf"^{_MONTH},?\s+(?P<year>\d{{4}})$"),
    re.compile(r"^(?:in\s+)?(?P<year>(?:19|20)\d{2})$"),
]


def parse_date(text: str) -> str | None:
    """The FHIR dateTime for a written date, at the precision written, or None."""
    text = text.strip()
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        year = int(parts["year"])
        month: int | None = int(parts["month"]) if parts.get("month") else None
        day: int | None = int(parts["day"]) if parts.get("day") else None
        if parts.get("month_name"):
            month = _MONTHS.get(parts["month_name"].lower())
            if month is None:
                return None
        if parts.get("a"):
            a, b = int(parts["a"]), int(parts["b"])
            month, day = (b, a) if a > 12 else (a, b)
        return _format(year, month, day)
    return None


def _format(year: int, month: int | None, day: int | None) -> str | None:
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"

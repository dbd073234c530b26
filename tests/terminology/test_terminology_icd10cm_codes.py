"""ICD-10 code shapes and the normal form codes are compared in."""

from __future__ import annotations

import pytest

from clinex.core.systems import ICD10CM, ICD10PCS
from clinex.terminology.icd10cm import looks_like_icd, normal_code


@pytest.mark.parametrize(
    ("written", "normal"), [("n44.8", "N448"), (" E11.9 ", "E119"), ("J45 909", "J45909")]
)
def test_normal_code_drops_case_dots_and_spaces(written: str, normal: str) -> None:
    assert normal_code(written) == normal


@pytest.mark.parametrize(
    ("code", "system", "looks"),
    [
        ("N448", ICD10CM, True),
        ("E119", ICD10CM, True),
        ("0DT", ICD10PCS, True),
        ("0DTJ4ZZ", ICD10PCS, True),
        ("0DT", ICD10CM, False),
        ("NOTACODE", ICD10CM, False),
        ("0DTI4ZZ", ICD10PCS, False),  # PCS never uses the letters I and O
    ],
)
def test_looks_like_icd(code: str, system: str, looks: bool) -> None:
    assert looks_like_icd(code, system) is looks

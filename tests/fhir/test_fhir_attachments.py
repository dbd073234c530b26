"""The one attachment decoder: charset honoured, base64 validated, BOM dropped, in every reader."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from clinex.core.errors import FHIRError
from clinex.corpora import read_corpus
from clinex.fhir.attachments import attachment_text
from clinex.inputs import NoteRecord, read_inputs

NOTE = "Café au lait spots. Naïve to metformin."


def document_reference(data: bytes, content_type: str | None = "text/plain; charset=utf-8") -> dict[str, Any]:
    attachment: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
    if content_type is not None:
        attachment["contentType"] = content_type
    return {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "content": [{"attachment": attachment}],
    }


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (NOTE.encode("utf-8"), "text/plain; charset=utf-8"),
        (NOTE.encode("utf-8"), None),  # no content type: UTF-8 text
        (NOTE.encode("latin-1"), "text/plain; charset=iso-8859-1"),
        (NOTE.encode("latin-1"), 'text/plain;charset="ISO-8859-1"'),
        (NOTE.encode("cp1252"), "text/plain; format=flowed; charset=windows-1252"),
        (b"\xef\xbb\xbf" + NOTE.encode("utf-8"), "text/plain; charset=utf-8"),  # BOM
        (NOTE.encode("utf-16"), "text/plain; charset=utf-16"),  # BOM of its own
        ("\ufeff".encode("utf-16-le") + NOTE.encode("utf-16-le"), "text/plain; charset=utf-16-le"),
    ],
)
def test_declared_charset_is_honoured_and_a_bom_dropped(data: bytes, content_type: str | None) -> None:
    assert attachment_text(document_reference(data, content_type), where="x") == NOTE


def test_first_text_attachment_with_inline_data_is_the_note() -> None:
    resource = document_reference(NOTE.encode())
    resource["content"].insert(0, {"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}})
    resource["content"].insert(0, {"attachment": {"contentType": "text/plain", "url": "https://x/note"}})
    assert attachment_text(resource, where="x") == NOTE
    assert attachment_text({"resourceType": "DocumentReference", "content": []}, where="x") is None


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            {"content": [{"attachment": {"data": "@@not base64@@"}}]},
            "in.json entry[3]: attachment data is not valid base64",
        ),
        (document_reference(NOTE.encode("latin-1")), "is not valid utf-8 (byte 3)"),
        (document_reference(b"x", "text/plain; charset=klingon"), "unknown charset 'klingon'"),
    ],
)
def test_bad_attachments_are_errors_naming_the_input_not_the_text(
    resource: dict[str, Any], message: str
) -> None:
    with pytest.raises(FHIRError) as caught:
        attachment_text(resource, where="in.json entry[3]")
    assert message in str(caught.value)
    assert "Caf" not in str(caught.value)


def test_extract_and_evaluate_read_a_latin1_note_identically(tmp_path: Path) -> None:
    # Before one decoder served both, `clinex evaluate` rejected this bundle and `clinex extract` read it.
    reference = document_reference(NOTE.encode("latin-1"), "text/plain; charset=iso-8859-1")
    reference["identifier"] = [{"system": "urn:example", "value": "n1"}]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": reference}]}
    path = tmp_path / "n1.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")

    (extracted,) = read_inputs([path])
    evaluated = read_corpus(path).documents["n1"]

    assert isinstance(extracted, NoteRecord)
    assert extracted.text == evaluated.text == NOTE

"""The note text of a DocumentReference: the one decoder every FHIR reader uses.

The note is the first ``content.attachment`` with inline ``data`` and a ``text/*`` content type
(or none). Its bytes are base64 (validated, not skipped over) in the charset the content type
declares (``text/plain; charset=iso-8859-1``), UTF-8 when none is declared; a byte-order mark
is not part of the note and is dropped, so offsets count the characters a reader sees.
Attachments given only by ``url`` are not fetched: clinex never reaches out to the network.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from typing import Any

from clinex.core.errors import FHIRError

_BOM = "\ufeff"


def attachment_text(resource: dict[str, Any], *, where: str) -> str | None:
    """The decoded note of a DocumentReference, or None when it has no inline text attachment.

    Raises FHIRError naming ``where`` when the attachment declares an unknown charset, its data
    is not base64, or its bytes are not valid in the charset.
    """
    for content in resource.get("content") or []:
        attachment = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(attachment, dict):
            continue
        media_type, _, parameters = str(attachment.get("contentType") or "text/plain").partition(";")
        if media_type.strip().lower().startswith("text/") and "data" in attachment:
            return _decode(attachment["data"], _charset(parameters, where=where), where=where)
    return None


def _charset(parameters: str, *, where: str) -> str:
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        codecs.lookup(charset)
    except LookupError:
        raise FHIRError(f"{where}: unknown charset {charset[:40]!r}", hint="declare charset=utf-8") from None
    return charset


def _decode(data: Any, charset: str, *, where: str) -> str:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise FHIRError(
            f"{where}: attachment data is not valid base64", hint="base64-encode the note text"
        ) from None
    try:
        return raw.decode(charset).removeprefix(_BOM)
    except UnicodeDecodeError as exc:
        raise FHIRError(
            f"{where}: attachment data is not valid {charset} (byte {exc.start})",
            hint="re-encode the note as UTF-8 and declare charset=utf-8",
        ) from None

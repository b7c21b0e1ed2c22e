"""Reading the tip form's body without writing any of it to disk.

Litestar's own form parsing spools a file over 1 MB to a temporary file, which would
put a tipster's photo in clear on the server's disk (issue 3, item 3). Here the
body is read from ``request.stream()`` and parsed by ``multipart.PushMultipartParser``
(the sans-IO parser Litestar itself uses) into memory only, refusing a file, the files
of a tip or the text fields as soon as they pass their limit.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from multipart import (
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

from tipline.intake.exceptions import BadForm, PayloadTooLarge

MAX_FIELDS_BYTES = 256 * 1024
MAX_PARTS = 64
MIB = 1024 * 1024


@dataclasses.dataclass
class UploadedFile:
    """A file as sent: its bytes in memory; the declared name is only passed on to cleaning."""

    declared_name: str | None
    data: bytes


@dataclasses.dataclass
class ReceivedForm:
    fields: dict[str, str]
    files: list[UploadedFile]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_files_bytes: int
    max_fields_bytes: int = MAX_FIELDS_BYTES


def _mb(limit: int) -> str:
    return f"{limit / MIB:.3g}"


def _text(raw: bytearray | bytes) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadForm() from None


async def read_form(request: Request[Any, Any, Any], limits: UploadLimits) -> ReceivedForm:
    """The fields and files of a ``multipart/form-data`` or urlencoded body, in memory.

    :class:`PayloadTooLarge` (413) the moment a limit is passed, :class:`BadForm` for a
    body that is neither.
    """
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type == "application/x-www-form-urlencoded":
        return await _read_urlencoded(request, limits)
    if media_type != "multipart/form-data" or not options.get("boundary"):
        raise BadForm()
    return await _read_multipart(request, options["boundary"], limits)


def media_type_of(request: Request[Any, Any, Any]) -> str:
    return str(parse_options_header(request.headers.get("content-type", ""))[0])


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The whole body (a JSON document), refused with 413 once it passes ``limit``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge("intake.error.fields_too_large")
    return bytes(body)


async def _read_urlencoded(request: Request[Any, Any, Any], limits: UploadLimits) -> ReceivedForm:
    body = await read_body(request, limits.max_fields_bytes)
    try:
        pairs = parse_qsl(_text(body), keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise BadForm() from None
    return ReceivedForm(fields=dict(pairs), files=[])


async def _read_multipart(
    request: Request[Any, Any, Any], boundary: str, limits: UploadLimits
) -> ReceivedForm:
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    fields_bytes = 0
    files_bytes = 0
    segment: MultipartSegment | None = None
    buffer = bytearray()
    try:
        with PushMultipartParser(boundary, max_segment_count=MAX_PARTS, strict=True) as parser:
            async for chunk in request.stream():
                if parser.closed:
                    break
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment = event
                        buffer = bytearray()
                    elif event is None:
                        if segment is None:
                            raise BadForm()
                        if segment.filename is not None:
                            # A file input left empty still sends a part with no bytes.
                            if buffer:
                                files.append(UploadedFile(segment.filename or None, bytes(buffer)))
                        elif segment.name:
                            fields[segment.name] = _text(buffer)
                        buffer = bytearray()
                        segment = None
                    else:
                        if segment is None:
                            raise BadForm()
                        buffer += event
                        if segment.filename is not None:
                            files_bytes += len(event)
                            if len(buffer) > limits.max_file_bytes:
                                raise PayloadTooLarge(
                                    "intake.error.file_too_large",
                                    limit_mb=_mb(limits.max_file_bytes),
                                )
                            if files_bytes > limits.max_files_bytes:
                                raise PayloadTooLarge(
                                    "intake.error.files_too_large",
                                    limit_mb=_mb(limits.max_files_bytes),
                                )
                        else:
                            fields_bytes += len(event)
                            if fields_bytes > limits.max_fields_bytes:
                                raise PayloadTooLarge("intake.error.fields_too_large")
    except ParserLimitReached:
        raise PayloadTooLarge("intake.error.fields_too_large") from None
    except ParserError:
        raise BadForm() from None
    finally:
        buffer.clear()
    return ReceivedForm(fields=fields, files=files)

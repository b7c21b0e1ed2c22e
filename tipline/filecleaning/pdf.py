"""PDF: refused when it could act on the officer's computer, otherwise stripped of metadata.

A PDF is a program as much as a document: scripts, launch actions, embedded files
and rich media can run or drop code when an officer opens it, and opening actions
can call home with the officer's address. Those are refused outright rather than
"neutralised", since a half-removed action is harder to reason about than a refusal.
What is kept is rewritten by qpdf without the document information dictionary, XMP
streams or the old file identifier, with earlier incremental revisions (which can
hold deleted text and older metadata) dropped.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf.settings import set_qpdf_limits

from tipline.filecleaning.exceptions import (
    ActiveContent,
    CompressedBomb,
    CorruptFile,
    EncryptedFile,
    TooComplex,
)
from tipline.filecleaning.schemas import AttachmentLimits

# Dictionary keys whose mere presence marks active or embedded content.
ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/Launch",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/RichMediaContent",
        "/RichMediaSettings",
        "/XFA",
    }
)
# Action types (/S) that run code, open other files or send data.
ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/GoToR",
        "/RichMediaExecute",
        "/Rendition",
        "/Movie",
        "/Sound",
    }
)
ACTIVE_SUBTYPES = frozenset({"/RichMedia", "/FileAttachment", "/Movie", "/Sound", "/Screen"})
PRIVATE_KEYS = ("/Metadata", "/PieceInfo")

# qpdf inflates object and cross-reference streams to read a file, without a limit by
# default: 200 KB of zeros in an object stream cost 290 MB, a 20 MB upload ~20 GB.
# The limit is process-wide in qpdf, so it is set once, here, at import (before any
# worker thread); an object stream legitimately holds a few hundred kilobytes.
# Content streams and images are never decoded (saved with StreamDecodeLevel.none).
FLATE_MAX_MEMORY = 16 * 1024 * 1024
set_qpdf_limits(flate_max_memory=FLATE_MAX_MEMORY)


def clean_pdf(data: bytes, limits: AttachmentLimits) -> tuple[bytes, list[str]]:
    """The rewritten PDF and the names of the metadata it carried."""
    try:
        pdf = pikepdf.Pdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise EncryptedFile() from None
    except (pikepdf.PdfError, ValueError, RuntimeError, RecursionError):
        raise CorruptFile() from None
    with pdf:
        try:
            cleaned = _clean_open_pdf(pdf, limits)
        except (pikepdf.PdfError, ValueError, RuntimeError, RecursionError, KeyError):
            raise CorruptFile() from None
        # qpdf drops a stream over its limit with a warning and carries on: the document
        # would silently lose objects, so it is refused instead.
        if any("limit exceeded" in warning for warning in pdf.get_warnings()):
            raise CompressedBomb()
    return cleaned


def _clean_open_pdf(pdf: pikepdf.Pdf, limits: AttachmentLimits) -> tuple[bytes, list[str]]:
    if len(pdf.objects) > limits.max_pdf_objects:
        raise TooComplex(limit=limits.max_pdf_objects)
    pages = len(pdf.pages)
    if pages == 0:
        raise CorruptFile()
    if pages > limits.max_pdf_pages:
        raise TooComplex(limit=limits.max_pdf_pages)
    holders = _scan(pdf, limits)
    removed = []
    if "/Info" in pdf.trailer:
        info = pdf.trailer.Info
        if isinstance(info, pikepdf.Dictionary) and len(info.keys()):
            removed.append("document info")
        del pdf.trailer.Info
    has_xmp = False
    for holder in holders:
        for key in PRIVATE_KEYS:
            if key in holder:
                has_xmp = has_xmp or key == "/Metadata"
                del holder[key]
    if has_xmp:
        removed.append("XMP")
    if "/ID" in pdf.trailer:
        del pdf.trailer.ID
    out = io.BytesIO()
    pdf.save(
        out,
        preserve_pdfa=False,
        fix_metadata_version=False,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,
        encryption=False,
        deterministic_id=True,
    )
    return out.getvalue(), removed


def _scan(pdf: pikepdf.Pdf, limits: AttachmentLimits) -> list[pikepdf.Object]:
    """Walk every object reachable from the trailer; refuse active content.

    Returns the dictionaries holding XMP or private application data, to be stripped.
    """
    holders: list[pikepdf.Object] = []
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [pdf.trailer]
    budget = limits.max_pdf_objects * 20
    while stack:
        budget -= 1
        if budget < 0:
            raise TooComplex(limit=limits.max_pdf_objects)
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(item for item in obj if _is_container(item))
            continue
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        keys = set(obj.keys())
        if keys & ACTIVE_KEYS:
            raise ActiveContent()
        if str(obj.get("/S", "")) in ACTIVE_ACTIONS or (
            str(obj.get("/Subtype", "")) in ACTIVE_SUBTYPES
        ):
            raise ActiveContent()
        if "/OpenAction" in keys:
            _check_open_action(obj.OpenAction)
        if keys.intersection(PRIVATE_KEYS):
            holders.append(obj)
        for key in keys:
            value = obj[key]
            if _is_container(value):
                stack.append(value)
    return holders


def _is_container(obj: pikepdf.Object) -> bool:
    return isinstance(obj, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream)


def _check_open_action(action: pikepdf.Object) -> None:
    """Opening may jump to a page (a destination or a GoTo); anything else is refused,
    a URI included, since it would reveal the officer's address to whoever set it."""
    if isinstance(action, pikepdf.Array):
        return
    if isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) == "/GoTo":
        return
    raise ActiveContent()

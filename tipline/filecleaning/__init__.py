"""Untrusted files: checked by content, cleaned of what could identify the sender.

Shared by the tip box (``tipline.intake``: a tipster's attachments) and the village
notice boards (``villageaffairs.noticeboards``: their photos), so it lives below both
and imports nothing but the settings and the error classes (docs/ARCHITECTURE.md;
principle 8: untrusted input is handled where nothing can be stolen).

A photo's EXIF can carry the GPS position of the tipster's home, a PDF's document
information the name of the computer's owner, an MP4 the place it was filmed. Every
file goes through :func:`clean_attachment` before it is encrypted: the type is
decided by the content (an allow-list: JPEG, PNG, PDF, MP3, M4A, MP4), metadata is
removed, hostile files (decompression bombs, PDFs with scripts, truncated or oversized
files) are refused with a 4xx. It works on bytes in memory only and never writes a
file, so a refused upload leaves nothing behind and plaintext never reaches the disk
(issue 3, item 8; issue 8, item 5).
"""

from __future__ import annotations

from tipline.filecleaning.exceptions import (
    ActiveContent,
    AttachmentRejected,
    CompressedBomb,
    CorruptFile,
    DecompressionBomb,
    EncryptedFile,
    TipAttachmentsTooLarge,
    TooComplex,
    TooLarge,
    UnsupportedType,
)
from tipline.filecleaning.images import clean_image
from tipline.filecleaning.media import clean_media
from tipline.filecleaning.pdf import clean_pdf
from tipline.filecleaning.schemas import (
    REMOVED_KEYS,
    AttachmentLimits,
    CleanedAttachment,
    limit_mb,
)
from tipline.filecleaning.sniff import Kind, sniff

__all__ = [
    "REMOVED_KEYS",
    "ActiveContent",
    "AttachmentLimits",
    "AttachmentRejected",
    "CleanedAttachment",
    "CompressedBomb",
    "CorruptFile",
    "DecompressionBomb",
    "EncryptedFile",
    "TipAttachmentsTooLarge",
    "TooComplex",
    "TooLarge",
    "UnsupportedType",
    "clean_attachment",
]


def clean_attachment(
    data: bytes, declared_name: str | None, limits: AttachmentLimits
) -> CleanedAttachment:
    """The cleaned file, or an :class:`AttachmentRejected` saying why not.

    ``declared_name`` is accepted and deliberately ignored: a name is chosen by the
    sender (it may be ``../../etc/passwd``, hold control characters or the
    tipster's own name) and says nothing reliable about the content. The caller
    names the stored file from ``extension``. Synchronous and CPU-bound: run it in a
    worker thread.
    """
    del declared_name
    if len(data) > limits.max_attachment_bytes:
        raise TooLarge(limit_mb=limit_mb(limits.max_attachment_bytes))
    kind = sniff(data)
    warnings: list[str] = []
    if kind in (Kind.JPEG, Kind.PNG):
        cleaned, removed = clean_image(data, kind, limits)
    elif kind is Kind.PDF:
        cleaned, removed = clean_pdf(data, limits)
    else:
        cleaned, removed, warnings = clean_media(data, kind, limits)
    return CleanedAttachment(
        media_type=kind.media_type,
        extension=kind.extension,
        data=cleaned,
        removed=removed,
        warnings=warnings,
        original_size=len(data),
        size=len(cleaned),
    )

"""What goes into and comes out of :func:`clean_attachment`."""

from __future__ import annotations

import msgspec

from tipline.settings import Settings

MIB = 1024 * 1024


class AttachmentLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The bounds a single upload is checked against before and while it is decoded.

    ``max_image_pixels`` covers 48/50-megapixel phone photos; larger images are refused
    rather than decoded, since a few kilobytes of PNG can claim 30000×30000 pixels.
    """

    max_attachment_bytes: int = 20 * MIB
    max_tip_attachments_bytes: int = 50 * MIB
    max_image_pixels: int = 50_000_000
    max_pdf_pages: int = 2_000
    max_pdf_objects: int = 200_000
    max_media_boxes: int = 100_000

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentLimits:
        return cls(
            max_attachment_bytes=settings.max_attachment_bytes,
            max_tip_attachments_bytes=settings.max_tip_attachments_bytes,
        )


class CleanedAttachment(msgspec.Struct, frozen=True, kw_only=True):
    """A file ready to be encrypted and stored: only its cleaned bytes are kept.

    ``removed`` names what was taken out (short names such as ``"EXIF"``, ``"GPS"``;
    :data:`REMOVED_KEYS` gives each one's message key) so the tipster can be told.
    ``warnings`` are message keys for what could *not* be removed.
    """

    media_type: str
    extension: str
    data: bytes
    removed: list[str]
    warnings: list[str]
    original_size: int
    size: int


# Message key of each short name that may appear in CleanedAttachment.removed.
REMOVED_KEYS: dict[str, str] = {
    "EXIF": "filecleaning.removed.exif",
    "GPS": "filecleaning.removed.gps",
    "XMP": "filecleaning.removed.xmp",
    "IPTC": "filecleaning.removed.iptc",
    "ICC": "filecleaning.removed.icc",
    "comment": "filecleaning.removed.comment",
    "text": "filecleaning.removed.text",
    "document info": "filecleaning.removed.document_info",
    "ID3": "filecleaning.removed.id3",
    "APE": "filecleaning.removed.ape",
    "tags": "filecleaning.removed.tags",
    "location": "filecleaning.removed.location",
    "timestamps": "filecleaning.removed.timestamps",
}


def limit_mb(size: int) -> str:
    """A byte limit in MB for a message: ``20``, ``0.5``."""
    return f"{size / MIB:.3g}"

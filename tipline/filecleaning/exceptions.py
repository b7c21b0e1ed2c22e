"""Why an attachment is refused; each is a 4xx with a message in both languages.

The tipster sees the message on the form, so it says what to do (another format, a
smaller file), never how the check works inside.
"""

from __future__ import annotations

from tipline.errors import Invalid


class AttachmentRejected(Invalid):
    """A file the tip box will not keep; nothing of it is stored."""

    message_key = "filecleaning.error.rejected"


class UnsupportedType(AttachmentRejected):
    """The content is none of JPEG, PNG, PDF, MP3, M4A or MP4, whatever its name says."""

    message_key = "filecleaning.error.unsupported_type"


class TooLarge(AttachmentRejected):
    """One file is over ``TIPLINE_MAX_ATTACHMENT_BYTES``."""

    status_code = 413
    message_key = "filecleaning.error.too_large"


class TipAttachmentsTooLarge(TooLarge):
    """The files of one tip add up to more than ``TIPLINE_MAX_TIP_ATTACHMENTS_BYTES``."""

    message_key = "filecleaning.error.tip_too_large"


class DecompressionBomb(AttachmentRejected):
    """An image would need more pixels than the limit once decoded (a tiny file can
    unpack to gigabytes)."""

    message_key = "filecleaning.error.decompression_bomb"


class CompressedBomb(AttachmentRejected):
    """A PDF whose compressed internal data would unpack to far more than any real
    document needs."""

    message_key = "filecleaning.error.compressed_bomb"


class TooComplex(AttachmentRejected):
    """A PDF with more pages or objects than the limit, or media with too many boxes."""

    message_key = "filecleaning.error.too_complex"


class CorruptFile(AttachmentRejected):
    """The file is truncated or damaged and could not be read to the end."""

    message_key = "filecleaning.error.corrupt"


class EncryptedFile(AttachmentRejected):
    """A password-protected PDF: its content cannot be checked or cleaned."""

    message_key = "filecleaning.error.encrypted"


class ActiveContent(AttachmentRejected):
    """A PDF carrying scripts, launch actions, embedded files or rich media, any of
    which could attack the officer who opens it."""

    message_key = "filecleaning.error.active_content"

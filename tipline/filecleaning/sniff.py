"""What a file is, from its first bytes only: the name and declared type are ignored.

A phone may call a photo ``IMG_0001.HEIC.jpg`` and an attacker may call an
executable ``photo.jpg``; only the content decides, and only an allow-list passes.
"""

from __future__ import annotations

import enum
import struct

from tipline.filecleaning.exceptions import UnsupportedType


class Kind(enum.Enum):
    """An allowed format: (media type, extension)."""

    JPEG = ("image/jpeg", "jpg")
    PNG = ("image/png", "png")
    PDF = ("application/pdf", "pdf")
    MP3 = ("audio/mpeg", "mp3")
    M4A = ("audio/mp4", "m4a")
    MP4 = ("video/mp4", "mp4")

    @property
    def media_type(self) -> str:
        return self.value[0]

    @property
    def extension(self) -> str:
        return self.value[1]


# The allowed formats a page may show as an image (CSP img-src 'self'): a tip's photo
# shown inline, a notice board's photo. Everything else is only downloaded.
IMAGE_KINDS = frozenset({Kind.JPEG, Kind.PNG})
IMAGE_TYPES = frozenset(kind.media_type for kind in IMAGE_KINDS)
# Every allowed media type and its file ending (the one allow-list).
EXTENSIONS = {kind.media_type: kind.extension for kind in Kind}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})
VIDEO_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"mmp4",
        b"MSNV",
        b"dash",
        b"3gp4",
        b"3gp5",
        b"3gp6",
    }
)


def sniff(data: bytes) -> Kind:
    """The allowed format ``data`` starts like, or :class:`UnsupportedType`."""
    if data[:3] == b"\xff\xd8\xff":
        return Kind.JPEG
    if data[:8] == PNG_SIGNATURE:
        return Kind.PNG
    if data[:5] == b"%PDF-":
        return Kind.PDF
    if data[:3] == b"ID3" or _is_mpeg_audio_frame(data[:4]):
        return Kind.MP3
    kind = _iso_media_kind(data)
    if kind is not None:
        return kind
    raise UnsupportedType()


def _is_mpeg_audio_frame(header: bytes) -> bool:
    """An MPEG-1/2/2.5 Layer III frame header: sync bits, no reserved values."""
    if len(header) < 4:
        return False
    (word,) = struct.unpack(">I", header)
    sync = word >> 21
    version = (word >> 19) & 0b11
    layer = (word >> 17) & 0b11
    bitrate = (word >> 12) & 0b1111
    samplerate = (word >> 10) & 0b11
    return (
        sync == 0x7FF and version != 0b01 and layer == 0b01 and bitrate not in (0, 15)
    ) and samplerate != 0b11


def _iso_media_kind(data: bytes) -> Kind | None:
    """M4A or MP4 from the ``ftyp`` box every ISO base media file starts with."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack(">I", data[:4])
    if size < 16 or size > min(len(data), 4096) or size % 4:
        return None
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, size, 4)}
    if major in AUDIO_BRANDS:
        return Kind.M4A
    if major in VIDEO_BRANDS:
        return Kind.MP4
    if compatible & AUDIO_BRANDS:
        return Kind.M4A
    if compatible & VIDEO_BRANDS:
        return Kind.MP4
    return None

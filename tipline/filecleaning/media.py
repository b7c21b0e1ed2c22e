"""MP3, M4A and MP4: tags removed in place, the audio and video left untouched.

MP3: ID3v1/v2 and APEv2 tags are deleted with mutagen. M4A/MP4: every metadata box
(``udta`` with its ``©xyz`` location, ``meta`` with iTunes-style and QuickTime
``mdta`` tags such as ``com.apple.quicktime.location.ISO6709``, XMP ``uuid`` boxes)
is turned into a ``free`` box of the same size filled with zeros, and the creation
and modification times in the movie, track and media headers are zeroed. Keeping
every size unchanged means no sample offset (``stco``/``co64``) moves, so the file
plays exactly as before without remuxing.

What stays: a video's own streams can carry more (a timed metadata track with GPS
readings, encoder notes inside the video bitstream); the tipster is warned rather
than promised a clean file.
"""

from __future__ import annotations

import io
import struct

import mutagen
import mutagen.apev2
import mutagen.id3
import mutagen.mp3
import mutagen.mp4

from tipline.filecleaning.exceptions import CorruptFile, TooComplex
from tipline.filecleaning.schemas import AttachmentLimits
from tipline.filecleaning.sniff import Kind

WARNING_VIDEO = "filecleaning.warning.video_metadata_may_remain"
WARNING_DATA_TRACK = "filecleaning.warning.data_track"

# Boxes holding nothing but metadata, blanked wherever they occur.
METADATA_BOXES = frozenset({b"udta", b"meta", b"XMP_", b"\xa9xyz", b"loci"})
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# Boxes whose children are walked.
CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"edts", b"moof", b"traf", b"mvex", b"dinf"}
)
TIMESTAMPED = frozenset({b"mvhd", b"tkhd", b"mdhd"})
FILLER = frozenset({b"free", b"skip"})
LOCATION_MARKERS = (b"\xa9xyz", b"loci", b"location")
# Handler types of tracks that carry data rather than sound or pictures.
DATA_HANDLERS = frozenset({b"meta", b"camm", b"gpmd", b"mebx"})
MAX_DEPTH = 12


def clean_media(
    data: bytes, kind: Kind, limits: AttachmentLimits
) -> tuple[bytes, list[str], list[str]]:
    """The cleaned file, the names of what was removed, and warning message keys."""
    if kind is Kind.MP3:
        cleaned, removed = _clean_mp3(data)
        return cleaned, removed, []
    return _clean_iso_media(data, kind, limits)


def _clean_mp3(data: bytes) -> tuple[bytes, list[str]]:
    _check_mp3(data)
    removed = []
    if data[:3] == b"ID3" or data[-128:-125] == b"TAG":
        removed.append("ID3")
    try:
        mutagen.apev2.APEv2(io.BytesIO(data))
    except mutagen.apev2.APENoHeaderError:
        pass
    except mutagen.MutagenError:
        raise CorruptFile() from None
    else:
        removed.append("APE")
    buffer = io.BytesIO(data)
    try:
        mutagen.id3.delete(buffer)
        mutagen.apev2.delete(buffer)
    except mutagen.MutagenError:
        raise CorruptFile() from None
    cleaned = buffer.getvalue()
    if cleaned[:3] == b"ID3" or cleaned[-128:-125] == b"TAG":
        raise CorruptFile()
    _check_mp3(cleaned)
    return cleaned, removed


def _check_mp3(data: bytes) -> None:
    try:
        mutagen.mp3.MP3(io.BytesIO(data))
    except (mutagen.MutagenError, ValueError, struct.error):
        raise CorruptFile() from None


def _clean_iso_media(
    data: bytes, kind: Kind, limits: AttachmentLimits
) -> tuple[bytes, list[str], list[str]]:
    try:
        parsed = mutagen.mp4.MP4(io.BytesIO(data))
    except (mutagen.MutagenError, ValueError, struct.error):
        raise CorruptFile() from None
    buffer = bytearray(data)
    walk = _Walk(buffer, limits)
    walk.boxes(0, len(buffer), depth=0)
    if not walk.saw_moov:
        raise CorruptFile()
    removed = []
    if walk.tags or parsed.tags:
        removed.append("tags")
    if walk.location:
        removed.append("location")
    if walk.xmp:
        removed.append("XMP")
    if walk.timestamps:
        removed.append("timestamps")
    warnings = []
    if kind is Kind.MP4:
        warnings.append(WARNING_VIDEO)
    if walk.data_track:
        warnings.append(WARNING_DATA_TRACK)
    cleaned = bytes(buffer)
    try:
        mutagen.mp4.MP4(io.BytesIO(cleaned))
    except (mutagen.MutagenError, ValueError, struct.error):
        raise CorruptFile() from None
    return cleaned, removed, warnings


class _Walk:
    """One pass over the box tree, blanking metadata in place."""

    def __init__(self, buffer: bytearray, limits: AttachmentLimits) -> None:
        self.buffer = buffer
        self.budget = self.limit = limits.max_media_boxes
        self.saw_moov = False
        self.tags = False
        self.location = False
        self.xmp = False
        self.timestamps = False
        self.data_track = False

    def boxes(self, start: int, end: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise CorruptFile()
        position = start
        while position < end:
            self.budget -= 1
            if self.budget < 0:
                raise TooComplex(limit=self.limit)
            if end - position < 8:
                if any(self.buffer[position:end]):
                    raise CorruptFile()
                return
            size, box = struct.unpack_from(">I4s", self.buffer, position)
            header = 8
            if size == 1:
                if end - position < 16:
                    raise CorruptFile()
                (size,) = struct.unpack_from(">Q", self.buffer, position + 8)
                header = 16
            elif size == 0:
                size = end - position
            if size < header or position + size > end:
                raise CorruptFile()
            self.box(box, position, header, size, depth)
            position += size

    def box(self, box: bytes, position: int, header: int, size: int, depth: int) -> None:
        payload = position + header
        end = position + size
        if box == b"moov" and depth == 0:
            self.saw_moov = True
        is_xmp_uuid = box == b"uuid" and bytes(self.buffer[payload : payload + 16]) == XMP_UUID
        if box in METADATA_BOXES or is_xmp_uuid:
            content = bytes(self.buffer[payload:end])
            if box in (b"udta", b"meta"):
                self.tags = True
            if box == b"XMP_" or is_xmp_uuid or b"<x:xmpmeta" in content:
                self.xmp = True
            if box in (b"\xa9xyz", b"loci") or any(m in content for m in LOCATION_MARKERS):
                self.location = True
            self.blank(position, header, size)
        elif box in FILLER:
            self.buffer[payload:end] = bytes(end - payload)
        elif box in TIMESTAMPED:
            self.zero_times(payload, end)
        elif box == b"hdlr" and end - payload >= 12:
            if bytes(self.buffer[payload + 8 : payload + 12]) in DATA_HANDLERS:
                self.data_track = True
        elif box in CONTAINERS:
            self.boxes(payload, end, depth + 1)

    def blank(self, position: int, header: int, size: int) -> None:
        """The box becomes ``free`` of the same length, so no offset moves."""
        self.buffer[position + 4 : position + 8] = b"free"
        if header == 16:
            self.buffer[position + 16 : position + size] = bytes(size - 16)
        else:
            self.buffer[position + 8 : position + size] = bytes(size - 8)

    def zero_times(self, payload: int, end: int) -> None:
        """Creation and modification times: 2×4 bytes (version 0) or 2×8 (version 1)."""
        if end - payload < 4:
            raise CorruptFile()
        width = 8 if self.buffer[payload] == 1 else 4
        start = payload + 4
        stop = start + 2 * width
        if stop > end:
            raise CorruptFile()
        if any(self.buffer[start:stop]):
            self.timestamps = True
            self.buffer[start:stop] = bytes(stop - start)

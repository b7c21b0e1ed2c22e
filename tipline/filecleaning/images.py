"""JPEG and PNG: decoded within a pixel limit, then re-encoded from the pixels alone.

Re-encoding rather than deleting known tags is the point: EXIF (with its GPS block
and thumbnail), XMP, IPTC, ICC profiles, comments, PNG text chunks and anything a
camera or app invents tomorrow live outside the pixels, so none of it survives. The
EXIF orientation is applied first so the photo still stands the right way up.
"""

from __future__ import annotations

import io
import zlib

from PIL import Image, ImageOps

from tipline.filecleaning.exceptions import CorruptFile, DecompressionBomb, TooComplex
from tipline.filecleaning.schemas import AttachmentLimits
from tipline.filecleaning.sniff import Kind

GPS_IFD = 0x8825
JPEG_QUALITY = 90
# Each progressive scan re-walks the whole image; cameras write about 10 and optimisers
# a few dozen, while a crafted file of thousands of scans costs minutes of CPU.
MAX_JPEG_SCANS = 100
PNG_KEEP_MODES = frozenset({"1", "L", "LA", "RGB", "RGBA", "I;16"})
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, zlib.error)


def clean_image(data: bytes, kind: Kind, limits: AttachmentLimits) -> tuple[bytes, list[str]]:
    """The re-encoded image and the names of the metadata it carried."""
    pillow_formats = ["JPEG"] if kind is Kind.JPEG else ["PNG"]
    # Entropy-coded data stuffs every 0xFF with 0x00, so FF DA is always a scan marker.
    if kind is Kind.JPEG and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        raise TooComplex(limit=MAX_JPEG_SCANS)
    try:
        with Image.open(io.BytesIO(data), formats=pillow_formats) as probe:
            _check_pixels(probe.size, limits)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=pillow_formats) as image:
            _check_pixels(image.size, limits)
            image.load()
            removed = _metadata_present(image)
            ImageOps.exif_transpose(image, in_place=True)
            return _encode_pixels_only(image, kind), removed
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DecompressionBomb(limit_mp=limits.max_image_pixels // 1_000_000) from None
    except MemoryError:
        raise DecompressionBomb(limit_mp=limits.max_image_pixels // 1_000_000) from None
    except _DECODE_ERRORS:
        raise CorruptFile() from None


def _check_pixels(size: tuple[int, int], limits: AttachmentLimits) -> None:
    """Refuse before decoding. Pillow's own threshold (``MAX_IMAGE_PIXELS``), where it
    would only emit a ``DecompressionBombWarning``, counts as a hard limit too: checked
    here rather than through a warnings filter, which is process-wide and not thread-safe
    to change while uploads are cleaned in worker threads."""
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptFile()
    limit = limits.max_image_pixels
    if Image.MAX_IMAGE_PIXELS is not None:
        limit = min(limit, Image.MAX_IMAGE_PIXELS)
    if width * height > limit:
        raise DecompressionBomb(limit_mp=limit // 1_000_000)


def _metadata_present(image: Image.Image) -> list[str]:
    """What the tipster is told was removed: only what this file really carried."""
    info = image.info
    found = []
    exif = image.getexif()
    if info.get("exif") or len(exif):
        found.append("EXIF")
        if exif.get_ifd(GPS_IFD) or GPS_IFD in exif:
            found.append("GPS")
    if info.get("xmp") or "XML:com.adobe.xmp" in info:
        found.append("XMP")
    if info.get("photoshop"):
        found.append("IPTC")
    if info.get("icc_profile"):
        found.append("ICC")
    if info.get("comment"):
        found.append("comment")
    text = getattr(image, "text", None)
    if text and any(key != "XML:com.adobe.xmp" for key in text):
        found.append("text")
    return found


def _encode_pixels_only(image: Image.Image, kind: Kind) -> bytes:
    """A new image holding only the pixels, so no ``info`` entry can be carried over."""
    if kind is Kind.JPEG:
        mode = image.mode if image.mode in ("L", "RGB") else "RGB"
    elif image.mode in PNG_KEEP_MODES:
        mode = image.mode
    else:
        transparent = "transparency" in image.info or image.mode in ("PA", "RGBa", "La")
        mode = "RGBA" if transparent else "RGB"
    source = image if image.mode == mode else image.convert(mode)
    bare = Image.new(mode, source.size)
    bare.paste(source)
    del source
    out = io.BytesIO()
    if kind is Kind.JPEG:
        bare.save(out, format="JPEG", quality=JPEG_QUALITY)
    else:
        bare.save(out, format="PNG", optimize=False)
    return out.getvalue()

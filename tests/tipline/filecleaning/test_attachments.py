"""Attachments are judged by content and leave without what could identify the tipster.

Every sample is made here, in memory: photos with GPS EXIF, PNGs with text chunks,
decompression bombs, PDFs with scripts and metadata, tagged MP3 and MP4 files.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import mutagen.apev2
import mutagen.id3
import mutagen.mp3
import mutagen.mp4
import pikepdf
import pytest
from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

from tipline.filecleaning import (
    REMOVED_KEYS,
    ActiveContent,
    AttachmentLimits,
    AttachmentRejected,
    CleanedAttachment,
    CompressedBomb,
    CorruptFile,
    DecompressionBomb,
    EncryptedFile,
    TooComplex,
    TooLarge,
    UnsupportedType,
    clean_attachment,
)
from tipline.settings import Settings
from tipline.web.i18n import catalogues

LIMITS = AttachmentLimits()
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
RED = (220, 20, 20)
BLUE = (20, 20, 220)


def clean(data: bytes, name: str | None = "upload", limits: AttachmentLimits = LIMITS):
    return clean_attachment(data, name, limits)


# --- samples ---------------------------------------------------------------------------


def two_colour_image(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue: shows which way the picture was turned."""
    image = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1] - 1), fill=RED)
    return image


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (40, 20)) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "MarkerCamMake"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (30.0, 15.0, 7.0)
    gps[3] = "E"
    gps[4] = (120.0, 5.0, 9.0)
    out = io.BytesIO()
    two_colour_image(size).save(
        out,
        format="JPEG",
        quality=95,
        exif=exif,
        comment=b"marker-comment",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">marker-xmp</x:xmpmeta>',
        icc_profile=srgb_icc(),
    )
    return out.getvalue()


def tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), RED).save(out, format="JPEG")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", "marker-author")
    info.add_text("Comment", "marker-ztxt " * 20, zip=True)
    info.add_itxt("Description", "marker-itxt", lang="en")
    out = io.BytesIO()
    two_colour_image().save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 30_000) -> bytes:
    """A one-bit grey PNG of side×side pixels, all black: ~100 KB that decodes to gigabytes."""
    row = b"\x00" + bytes((side + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * 1000
    idat = b"".join(compressor.compress(block) for _ in range(side // 1000))
    idat += compressor.compress(row * (side % 1000)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def png_with_ztxt_bomb() -> bytes:
    """A valid 2×2 PNG whose zTXt chunk inflates to 200 MB."""
    plain = io.BytesIO()
    Image.new("RGB", (2, 2), RED).save(plain, format="PNG")
    data = plain.getvalue()
    compressor = zlib.compressobj(9)
    text = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(200)) + compressor.flush()
    chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + text)
    end = data.index(b"IDAT") - 4
    return data[:end] + chunk + data[end:]


def noisy_jpeg(size: tuple[int, int]) -> bytes:
    noise = Image.effect_noise(size, 40)
    image = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def blank_pdf(pages: int = 1) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    return pdf


def pdf_bytes(pdf: pikepdf.Pdf, **save: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **save)  # type: ignore[arg-type]
    return out.getvalue()


def pdf_with_metadata() -> bytes:
    pdf = blank_pdf()
    pdf.docinfo["/Author"] = "Marker Author Name"
    pdf.docinfo["/Creator"] = "Marker Creator App"
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:creator"] = ["Marker Xmp Creator"]
        meta["xmp:CreatorTool"] = "Marker Xmp Tool"
    return pdf_bytes(pdf)


def javascript_action() -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))


def pdf_open_action_js() -> bytes:
    pdf = blank_pdf()
    pdf.Root.OpenAction = javascript_action()
    return pdf_bytes(pdf)


def pdf_names_js() -> bytes:
    pdf = blank_pdf()
    names = pikepdf.Array([pikepdf.String("x"), pdf.make_indirect(javascript_action())])
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=names))
    return pdf_bytes(pdf)


def pdf_page_aa() -> bytes:
    pdf = blank_pdf()
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=javascript_action())
    return pdf_bytes(pdf)


def pdf_launch_link() -> bytes:
    pdf = blank_pdf()
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 100, 100]),
        A=launch,
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annotation)])
    return pdf_bytes(pdf)


def pdf_embedded_file() -> bytes:
    pdf = blank_pdf()
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ payload")
    return pdf_bytes(pdf)


def pdf_open_uri() -> bytes:
    pdf = blank_pdf()
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.URI, URI=pikepdf.String("https://tracker.example/officer")
    )
    return pdf_bytes(pdf)


def pdf_rich_media() -> bytes:
    pdf = blank_pdf()
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.RichMedia,
        Rect=pikepdf.Array([0, 0, 10, 10]),
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annotation)])
    return pdf_bytes(pdf)


def pdf_object_stream_bomb(megabytes: int = 200) -> bytes:
    """A one-page PDF whose page points at an object kept in an object stream that
    inflates to ``megabytes`` MB of spaces: qpdf must inflate it just to read the file."""
    compressor = zlib.compressobj(9)
    body = compressor.compress(b"4 0\n<< /A 1 >>")
    body += b"".join(compressor.compress(b" " * (1 << 20)) for _ in range(megabytes))
    body += compressor.flush()
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}

    def add(number: int, text: bytes) -> None:
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n" % number + text + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Foo 4 0 R >>")
    add(
        5,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(body)
        + body
        + b"\nendstream",
    )
    offsets[6] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for number in range(1, 7):
        if number == 4:
            rows.append(struct.pack(">BIH", 2, 5, 0))
        else:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
    table = b"".join(rows)
    out.extend(
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(table)
        + table
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[6]
    )
    return bytes(out)


def mp3_frames(count: int = 30) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames of silence."""
    frame = b"\xff\xfb\x90\x00" + bytes(413)
    return frame * count


def tagged_mp3() -> bytes:
    buffer = io.BytesIO(mp3_frames())
    tags = mutagen.id3.ID3()
    tags.add(mutagen.id3.TIT2(encoding=3, text="marker-title"))
    tags.add(mutagen.id3.TPE1(encoding=3, text="marker-artist"))
    tags.add(mutagen.id3.COMM(encoding=3, lang="eng", desc="", text="marker-comment"))
    tags.save(buffer)
    ape = mutagen.apev2.APEv2()
    ape["Title"] = "marker-ape"
    ape.save(buffer)
    id3v1 = b"TAG" + b"marker-v1".ljust(30, b"\x00") + bytes(94) + b"\xff"
    return buffer.getvalue() + id3v1


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def iso_media(brand: bytes, handlers: tuple[bytes, ...], *, location: bool = True) -> bytes:
    """A minimal ISO base media file mutagen accepts: one track per handler, a udta with
    a ©xyz location, creation times set, and a few bytes of mdat."""
    created = 3_800_000_000
    mvhd = full_box(b"mvhd", struct.pack(">IIII", created, created, 1000, 1000) + bytes(80))
    tracks = b""
    for number, handler in enumerate(handlers, start=1):
        tkhd = full_box(b"tkhd", struct.pack(">IIII", created, created, number, 0) + bytes(68))
        mdhd = full_box(b"mdhd", struct.pack(">IIII", created, created, 44100, 0) + bytes(4))
        hdlr = full_box(b"hdlr", bytes(4) + handler + bytes(12) + b"handler\x00")
        stbl = box(
            b"stbl",
            full_box(b"stsd", struct.pack(">I", 0))
            + full_box(b"stts", struct.pack(">I", 0))
            + full_box(b"stsc", struct.pack(">I", 0))
            + full_box(b"stsz", struct.pack(">II", 0, 0))
            + full_box(b"stco", struct.pack(">I", 0)),
        )
        minf = box(b"minf", stbl)
        tracks += box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))
    udta = b""
    if location:
        place = b"+30.2500+120.0800/"
        udta = box(b"udta", box(b"\xa9xyz", struct.pack(">HH", len(place), 0x15C7) + place))
    ftyp = box(b"ftyp", brand + bytes(4) + brand + b"isom")
    moov = box(b"moov", mvhd + tracks + udta)
    return ftyp + moov + box(b"mdat", b"\x00" * 64)


def tagged_iso_media(brand: bytes, handlers: tuple[bytes, ...]) -> bytes:
    buffer = io.BytesIO(iso_media(brand, handlers))
    media = mutagen.mp4.MP4(buffer)
    media.add_tags()
    assert media.tags is not None
    media.tags["\xa9nam"] = ["marker-title"]
    media.tags["\xa9too"] = ["marker-encoder"]
    media.tags["\xa9cmt"] = ["marker-comment"]
    media.save(buffer)
    return buffer.getvalue()


# --- images ----------------------------------------------------------------------------


def test_jpeg_loses_exif_gps_xmp_icc_and_comment_but_keeps_its_pixels() -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS_IFD)

    result = clean(original, "IMG_0001.jpg")

    assert (result.media_type, result.extension) == ("image/jpeg", "jpg")
    assert result.removed == ["EXIF", "GPS", "XMP", "ICC", "comment"]
    assert result.warnings == []
    assert (result.original_size, result.size) == (len(original), len(result.data))
    for marker in (b"Exif\x00\x00", b"MarkerCamMake", b"marker-comment", b"marker-xmp"):
        assert marker not in result.data
    assert b"ICC_PROFILE" not in result.data
    with Image.open(io.BytesIO(result.data)) as after:
        assert after.format == "JPEG"
        assert after.size == (40, 20)
        assert len(after.getexif()) == 0
        assert not after.getexif().get_ifd(GPS_IFD)
        for key in ("exif", "icc_profile", "xmp", "comment"):
            assert key not in after.info
        assert _close(after.getpixel((5, 10)), RED)
        assert _close(after.getpixel((35, 10)), BLUE)


def test_the_exif_orientation_is_applied_before_it_is_dropped() -> None:
    """A phone held upright stores the picture sideways with orientation 6."""
    result = clean(jpeg_with_gps(orientation=6))

    with Image.open(io.BytesIO(result.data)) as after:
        assert after.size == (20, 40)
        assert ORIENTATION not in after.getexif()
        # Turned 90° clockwise: the red left half is now on top.
        assert _close(after.getpixel((10, 5)), RED)
        assert _close(after.getpixel((10, 35)), BLUE)


def test_png_text_chunks_are_gone() -> None:
    original = png_with_text()

    result = clean(original, "screenshot.png")

    assert (result.media_type, result.extension) == ("image/png", "png")
    assert result.removed == ["text"]
    for marker in (b"marker-author", b"tEXt", b"zTXt", b"iTXt", b"marker-itxt"):
        assert marker not in result.data
    with Image.open(io.BytesIO(result.data)) as after:
        assert after.text == {}  # type: ignore[attr-defined]
        assert after.size == (40, 20)
        assert _close(after.getpixel((5, 5)), RED)


def test_a_clean_image_reports_nothing_removed() -> None:
    out = io.BytesIO()
    two_colour_image().save(out, format="PNG")

    assert clean(out.getvalue()).removed == []


def test_a_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 1)
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)

    result = clean(out.getvalue())

    with Image.open(io.BytesIO(result.data)) as after:
        assert after.mode == "RGBA"
        assert after.getpixel((1, 1)) == (255, 0, 0, 0)
        assert after.getpixel((0, 0)) == (0, 0, 255, 255)


def test_the_name_never_decides_the_type() -> None:
    """A photo called .pdf is a photo; the name is not even looked at."""
    result = clean(tiny_jpeg(), "report.pdf")

    assert (result.media_type, result.extension) == ("image/jpeg", "jpg")


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "../../../etc/passwd",
        "..\\..\\windows\\system32\\x.jpg",
        "photo\x00.jpg",
        "line\r\nbreak\x1b[31m.jpg",
        "/absolute/path.jpg",
        "张三的举报材料.jpg",
        "a" * 10_000,
    ],
)
def test_hostile_names_change_nothing(name: str | None) -> None:
    result = clean(tiny_jpeg(), name)

    assert result.extension == "jpg"
    assert result == clean(tiny_jpeg(), "plain.jpg")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"just some text, not a photo\n", "photo.jpg"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64), "photo.jpg"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), "photo.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>", "a.png"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "doc.pdf"),
        (b"\x7fELF\x02\x01\x01" + bytes(60), "voice.mp3"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a.jpg"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video.mp4"),
        (b"", "empty.jpg"),
    ],
    ids=["text", "exe", "zip", "svg", "html", "elf", "gif", "quicktime", "empty"],
)
def test_anything_outside_the_allow_list_is_refused(data: bytes, name: str) -> None:
    with pytest.raises(UnsupportedType) as refused:
        clean(data, name)

    assert refused.value.status_code == 400
    assert refused.value.key == "filecleaning.error.unsupported_type"


def test_a_png_claiming_30000_by_30000_pixels_is_a_decompression_bomb() -> None:
    bomb = bomb_png()
    assert len(bomb) < 300_000

    started = time.perf_counter()
    with pytest.raises(DecompressionBomb) as refused:
        clean(bomb, "bomb.png")

    assert time.perf_counter() - started < 1
    assert refused.value.status_code == 400
    assert refused.value.values == {"limit_mp": 50}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pillows_own_warning_is_an_error_too() -> None:
    """Above Pillow's threshold (~89 Mpx) the warning it would only log refuses the file,
    even when the configured limit is higher."""
    limits = AttachmentLimits(max_image_pixels=10**9)

    with pytest.raises(DecompressionBomb):
        clean(bomb_png(10_000), "big.png", limits)


def test_the_pixel_limit_is_a_setting_of_the_limits() -> None:
    limits = AttachmentLimits(max_image_pixels=200)

    with pytest.raises(DecompressionBomb):
        clean(jpeg_with_gps(), limits=limits)


def test_a_zlib_bomb_in_a_png_text_chunk_is_refused_without_inflating_it() -> None:
    bomb = png_with_ztxt_bomb()
    assert len(bomb) < 1_000_000

    started = time.perf_counter()
    with pytest.raises(CorruptFile):
        clean(bomb, "text-bomb.png")

    assert time.perf_counter() - started < 1


def test_a_jpeg_with_thousands_of_progressive_scans_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    two_colour_image().save(out, format="JPEG", progressive=True)
    whole = out.getvalue()
    first_scan = whole.index(b"\xff\xda")
    scans = whole[first_scan:-2]
    crafted = whole[:first_scan] + scans * 300 + b"\xff\xd9"

    with pytest.raises(TooComplex) as refused:
        clean(crafted)

    assert refused.value.values == {"limit": 100}
    assert clean(whole).media_type == "image/jpeg"


def test_a_truncated_jpeg_is_corrupt() -> None:
    whole = noisy_jpeg((200, 200))

    with pytest.raises(CorruptFile) as refused:
        clean(whole[: len(whole) // 2], "cut.jpg")

    assert refused.value.key == "filecleaning.error.corrupt"


def test_a_png_with_a_broken_checksum_is_corrupt() -> None:
    data = bytearray(png_with_text())
    position = data.index(b"IDAT") + 8
    data[position] ^= 0xFF

    with pytest.raises(CorruptFile):
        clean(bytes(data))


def test_only_the_magic_bytes_of_a_jpeg_are_corrupt() -> None:
    with pytest.raises(CorruptFile):
        clean(b"\xff\xd8\xff\xe0" + bytes(100))


# --- size ------------------------------------------------------------------------------


def test_an_oversized_file_is_413_before_it_is_even_sniffed() -> None:
    limits = AttachmentLimits(max_attachment_bytes=1024 * 1024)

    with pytest.raises(TooLarge) as refused:
        clean(b"x" * (1024 * 1024 + 1), "huge.jpg", limits)

    assert refused.value.status_code == 413
    assert refused.value.values == {"limit_mb": "1"}
    assert isinstance(refused.value, AttachmentRejected)
    assert clean(tiny_jpeg(), limits=AttachmentLimits(max_attachment_bytes=len(tiny_jpeg())))


def test_limits_come_from_the_settings() -> None:
    settings = Settings.from_env(
        {"TIPLINE_MAX_ATTACHMENT_BYTES": "1000", "TIPLINE_MAX_TIP_ATTACHMENTS_BYTES": "3000"}
    )
    limits = AttachmentLimits.from_settings(settings)

    assert (limits.max_attachment_bytes, limits.max_tip_attachments_bytes) == (1000, 3000)
    assert (Settings().max_attachment_bytes, Settings().max_tip_attachments_bytes) == (
        20 * 1024 * 1024,
        50 * 1024 * 1024,
    )


# --- PDF -------------------------------------------------------------------------------


def test_pdf_metadata_is_removed() -> None:
    original = pdf_with_metadata()
    assert b"Marker Author Name" in original

    result = clean(original, "evidence.pdf")

    assert (result.media_type, result.extension) == ("application/pdf", "pdf")
    assert result.removed == ["document info", "XMP"]
    for marker in (b"Marker Author Name", b"Marker Creator App", b"Marker Xmp", b"xmpmeta"):
        assert marker not in result.data
    with pikepdf.open(io.BytesIO(result.data)) as after:
        assert "/Author" not in after.docinfo
        assert "/Metadata" not in after.Root
        assert len(after.pages) == 1


@pytest.mark.parametrize(
    "make",
    [
        pdf_open_action_js,
        pdf_names_js,
        pdf_page_aa,
        pdf_launch_link,
        pdf_embedded_file,
        pdf_open_uri,
        pdf_rich_media,
    ],
)
def test_pdfs_with_active_content_are_refused(make: Callable[[], bytes]) -> None:
    with pytest.raises(ActiveContent) as refused:
        clean(make(), "doc.pdf")

    assert refused.value.status_code == 400
    assert refused.value.key == "filecleaning.error.active_content"


def test_an_opening_jump_to_a_page_is_fine() -> None:
    pdf = blank_pdf(2)
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[1].obj, pikepdf.Name.Fit])

    assert clean(pdf_bytes(pdf)).removed == []


def test_a_password_protected_pdf_is_refused() -> None:
    data = pdf_bytes(blank_pdf(), encryption=pikepdf.Encryption(user="secret", owner="secret"))

    with pytest.raises(EncryptedFile):
        clean(data)


def test_a_pdf_only_restricted_by_an_owner_password_is_kept_decrypted() -> None:
    """Many official documents forbid printing but open without a password: their
    content can be checked, so they are kept, written without the encryption."""
    data = pdf_bytes(blank_pdf(), encryption=pikepdf.Encryption(user="", owner="owner-pw"))

    result = clean(data)

    with pikepdf.open(io.BytesIO(result.data)) as after:
        assert not after.is_encrypted


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n", b"%PDF-1.7\n" + b"garbage " * 100, b"%PDF-1.4\n%%EOF\n"],
    ids=["header-only", "garbage", "no-pages"],
)
def test_a_broken_pdf_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptFile):
        clean(data)


def test_a_truncated_pdf_is_repaired_or_refused_never_a_crash() -> None:
    whole = pdf_with_metadata()
    try:
        result = clean(whole[: len(whole) * 2 // 3])
    except AttachmentRejected:
        return
    assert b"Marker Author Name" not in result.data


def test_an_object_stream_inflating_to_200_mb_is_refused_quickly() -> None:
    bomb = pdf_object_stream_bomb()
    assert len(bomb) < 300_000

    started = time.perf_counter()
    with pytest.raises(CompressedBomb) as refused:
        clean(bomb, "bomb.pdf")

    assert time.perf_counter() - started < 2
    assert refused.value.key == "filecleaning.error.compressed_bomb"


def test_object_streams_of_ordinary_size_are_read() -> None:
    small = clean(pdf_object_stream_bomb(megabytes=1))
    pdf = blank_pdf(3)
    pdf.docinfo["/Author"] = "Marker Author Name"
    packed = pdf_bytes(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)

    result = clean(packed)

    assert small.media_type == "application/pdf"
    assert result.removed == ["document info"]
    assert b"Marker Author Name" not in result.data


def test_xmp_on_pages_and_the_old_file_identifier_are_removed_too() -> None:
    pdf = blank_pdf()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">marker-page-xmp</x:xmpmeta>'
    pdf.pages[0].obj.Metadata = pdf.make_stream(xmp, Type=pikepdf.Name.Metadata)
    original = pdf_bytes(pdf)
    with pikepdf.open(io.BytesIO(original)) as before:
        old_id = bytes(before.trailer.ID[0])

    result = clean(original)

    assert result.removed == ["XMP"]
    assert b"marker-page-xmp" not in result.data
    with pikepdf.open(io.BytesIO(result.data)) as after:
        assert "/Metadata" not in after.pages[0].obj
        assert bytes(after.trailer.ID[0]) != old_id


def test_too_many_pages_are_refused() -> None:
    with pytest.raises(TooComplex) as refused:
        clean(pdf_bytes(blank_pdf(3)), limits=AttachmentLimits(max_pdf_pages=2))

    assert refused.value.values == {"limit": 2}


# --- audio and video -------------------------------------------------------------------


def test_mp3_tags_are_removed() -> None:
    original = tagged_mp3()
    assert b"marker-title" in original

    result = clean(original, "recording.mp3")

    assert (result.media_type, result.extension) == ("audio/mpeg", "mp3")
    assert result.removed == ["ID3", "APE"]
    assert result.warnings == []
    assert result.data == mp3_frames()
    assert mutagen.mp3.MP3(io.BytesIO(result.data)).tags is None


def test_an_untagged_mp3_passes_unchanged() -> None:
    result = clean(mp3_frames(), "voice.mp3")

    assert (result.data, result.removed) == (mp3_frames(), [])


def test_mpeg_frame_sync_without_frames_is_corrupt() -> None:
    with pytest.raises(CorruptFile):
        clean(b"\xff\xfb\x90\x00" + b"not audio" * 10)


def test_m4a_tags_location_and_times_are_blanked_in_place() -> None:
    original = tagged_iso_media(b"M4A ", (b"soun",))
    assert b"marker-title" in original and b"+30.2500" in original

    result = clean(original, "voice memo.m4a")

    assert (result.media_type, result.extension) == ("audio/mp4", "m4a")
    assert result.removed == ["tags", "location", "timestamps"]
    assert result.warnings == []
    assert result.size == result.original_size
    for marker in (b"marker-title", b"marker-encoder", b"marker-comment", b"+30.2500"):
        assert marker not in result.data
    after = mutagen.mp4.MP4(io.BytesIO(result.data))
    assert not after.tags
    assert struct.pack(">I", 3_800_000_000) not in result.data


def test_mp4_video_is_cleaned_and_the_tipster_is_warned_about_what_may_remain() -> None:
    result = clean(tagged_iso_media(b"isom", (b"vide", b"soun")), "video.mov")

    assert (result.media_type, result.extension) == ("video/mp4", "mp4")
    assert "location" in result.removed
    assert result.warnings == ["filecleaning.warning.video_metadata_may_remain"]
    assert b"+30.2500" not in result.data


def test_a_video_with_a_data_track_warns_that_it_may_hold_gps() -> None:
    result = clean(iso_media(b"mp42", (b"vide", b"meta")))

    assert result.warnings == [
        "filecleaning.warning.video_metadata_may_remain",
        "filecleaning.warning.data_track",
    ]


@pytest.mark.parametrize("cut", [30, 60, 200])
def test_a_truncated_mp4_is_corrupt(cut: int) -> None:
    with pytest.raises(CorruptFile):
        clean(tagged_iso_media(b"isom", (b"vide",))[:cut])


def test_a_box_claiming_more_bytes_than_the_file_is_corrupt() -> None:
    data = bytearray(iso_media(b"M4A ", (b"soun",)))
    moov = data.index(b"moov") - 4
    data[moov : moov + 4] = struct.pack(">I", 10**9)

    with pytest.raises(CorruptFile):
        clean(bytes(data))


# --- nothing touches the disk ----------------------------------------------------------

_WRITES: list[str] = []
_RECORDING = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _RECORDING:
        return
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing and not isinstance(path, int):
            _WRITES.append(f"open {path!r} {mode!r}")
    elif event in ("tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir", "os.rename"):
        _WRITES.append(f"{event} {args!r}")


sys.addaudithook(_audit)


@pytest.fixture
def fresh_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty private temp dir (other test processes share /tmp)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    assert tempfile.gettempdir() == str(folder)
    yield folder


def test_no_file_is_written_while_cleaning(fresh_tempdir: Path) -> None:
    global _RECORDING
    samples = [
        (jpeg_with_gps(6), None),
        (png_with_text(), None),
        (pdf_with_metadata(), None),
        (tagged_mp3(), None),
        (tagged_iso_media(b"isom", (b"vide",)), None),
        (bomb_png(), DecompressionBomb),
        (pdf_open_action_js(), ActiveContent),
        (jpeg_with_gps()[:300], CorruptFile),
        (b"MZ" + bytes(100), UnsupportedType),
    ]
    before = sorted(os.listdir(fresh_tempdir))
    _WRITES.clear()
    _RECORDING = True
    try:
        for data, refusal in samples:
            if refusal is None:
                assert isinstance(clean(data, "../../x.jpg"), CleanedAttachment)
            else:
                with pytest.raises(refusal):
                    clean(data, "../../x.jpg")
    finally:
        _RECORDING = False

    assert _WRITES == []
    assert sorted(os.listdir(fresh_tempdir)) == before == []


# --- messages and speed ----------------------------------------------------------------


def test_every_removed_name_and_warning_reads_in_both_languages() -> None:
    keys = {
        *REMOVED_KEYS.values(),
        "filecleaning.warning.video_metadata_may_remain",
        "filecleaning.warning.data_track",
    }
    for locale, catalogue in catalogues().items():
        assert keys <= catalogue.keys(), locale


def test_cleaning_a_12_megapixel_photo(capsys: pytest.CaptureFixture[str]) -> None:
    original = noisy_jpeg((4000, 3000))
    exif = Image.Exif()
    exif[MAKE] = "MarkerCamMake"
    exif.get_ifd(GPS_IFD)[1] = "N"
    with Image.open(io.BytesIO(original)) as image:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90, exif=exif)
    original = out.getvalue()

    started = time.perf_counter()
    result = clean(original, "IMG_4000x3000.jpg")
    elapsed = time.perf_counter() - started

    assert result.removed == ["EXIF", "GPS"]
    with capsys.disabled():
        print(
            f"\ncleaning a 12-megapixel JPEG ({len(original) / 1e6:.1f} MB): "
            f"{elapsed * 1000:.0f} ms, output {result.size / 1e6:.1f} MB"
        )
    assert elapsed < 10


def _close(pixel: object, expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))

"""The printable QR sticker of a village's notice board (PNG and PDF).

The QR code (segno) holds the village's public page address. The PDF is the same
sticker drawn as an image: its Chinese text is rendered into pixels with a CJK font
found on the server (``fonts-wqy-microhei`` or ``fonts-noto-cjk``), so the printed
sticker never depends on the reader's fonts; without such a font the caption falls back
to the village code and the address.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
STICKER_WIDTH = 1240  # px: 105 mm at 300 dpi
DPI = 300


def public_url(base_url: str, village_code: str) -> str:
    return f"{base_url.rstrip('/')}/public/villages/{village_code}"


def qr_png(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


@functools.cache
def _font_path() -> str | None:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default()


def sticker_image(url: str, village_name: str, village_code: str, caption: str) -> Image.Image:
    """A white sticker: caption, the QR code, the village's name and the address."""
    qr = Image.open(io.BytesIO(qr_png(url, scale=20))).convert("RGB")
    side = STICKER_WIDTH - 160
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    height = side + 520
    image = Image.new("RGB", (STICKER_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    has_cjk = _font_path() is not None
    title = caption if has_cjk else "Village affairs disclosure"
    name = village_name if has_cjk else village_code
    draw.text((STICKER_WIDTH // 2, 90), title, fill="#9b1b1b", font=_font(72), anchor="mm")
    image.paste(qr, (80, 170))
    draw.text((STICKER_WIDTH // 2, side + 260), name, fill="black", font=_font(80), anchor="mm")
    draw.text((STICKER_WIDTH // 2, side + 380), url, fill="#444444", font=_font(30), anchor="mm")
    return image


def sticker_png(url: str, village_name: str, village_code: str, caption: str) -> bytes:
    buffer = io.BytesIO()
    sticker_image(url, village_name, village_code, caption).save(buffer, "PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def sticker_pdf(url: str, village_name: str, village_code: str, caption: str) -> bytes:
    buffer = io.BytesIO()
    sticker_image(url, village_name, village_code, caption).save(
        buffer, "PDF", resolution=float(DPI), title=village_code
    )
    return buffer.getvalue()

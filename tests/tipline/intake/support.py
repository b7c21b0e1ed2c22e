"""Opening the tip box in tests: an officer with a key and an escrow key (cheap argon2)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.conftest import make_account
from tipline.crypto import primitives
from tipline.crypto import services as crypto_services
from tipline.crypto.primitives import KdfParams
from tipline.settings import Settings

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


async def open_tip_box(
    settings: Settings, *, escrow: bool = True, officers: int = 1
) -> dict[str, Any]:
    """Give ``officers`` officers a key and make the escrow key; returns what a test needs
    to open tips: the officers (with ``private_key``) and the escrow private key."""
    made: list[dict[str, Any]] = []
    for _ in range(officers):
        officer = await make_account("officer")
        if not await crypto_services.has_officer_key(officer["id"]):
            await crypto_services.create_officer_key(officer["id"], officer["password"], kdf=FAST)
        officer["private_key"] = await crypto_services.unwrap_officer_key(
            officer["id"], officer["password"]
        )
        made.append(officer)
    escrow_key: X25519PrivateKey | None = None
    if escrow:
        path = Path(settings.data_dir) / "escrow-test.pem"
        await crypto_services.init_escrow_key(path)
        escrow_key = primitives.private_key_from_pem(path.read_bytes())
    return {"officers": made, "officer": made[0] if made else None, "escrow_key": escrow_key}


def forms_of(text: str) -> list[bytes]:
    """The ways a secret could be written into a column or file."""
    raw = text.encode("utf-8")
    return [
        raw,
        raw.hex().encode(),
        base64.b64encode(raw).rstrip(b"="),
        text.encode("unicode_escape"),
    ]


def receipt_on_page(html: str) -> str:
    """The 24 digits of the receipt a page shows in six groups of four."""
    groups = re.findall(r"<span>(\d{4})</span>", html)
    assert len(groups) == 6, html
    return "".join(groups)


def ledger_no_on_page(html: str) -> str:
    """The first ledger number (``2026-000123``) on a page."""
    match = re.search(r"\d{4}-\d{6}", html)
    assert match, html
    return match.group(0)


def receipt_digits(receipt: str) -> str:
    return receipt.replace(" ", "")


def jpeg_with_gps(size: tuple[int, int] = (40, 20)) -> bytes:
    """A small photo carrying a camera make and a GPS position in its EXIF."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "MarkerCamMake"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (30.0, 15.0, 7.0)
    gps[3] = "E"
    gps[4] = (120.0, 5.0, 9.0)
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", quality=95, exif=exif)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int]) -> bytes:
    """A photo that does not compress well (a few MB at a modest size)."""
    import io

    from PIL import Image

    noise = Image.effect_noise(size, 60)
    image = Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise.transpose(0)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=98)
    return out.getvalue()

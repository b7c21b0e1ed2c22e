"""The transfer package (移送材料): a PDF made in memory, optionally sealed to the
authority's key. Nothing here touches the database.

Why in memory and never stored: 纪检监察机关处理检举控告工作规则 (2020) Art. 15 forbids
copying or excerpting tip content (不得复制、摘抄检举控告内容) beyond the hand-over itself,
and docs/ARCHITECTURE.md principle 1 keeps no plaintext on the server. Every page carries the ledger
number, the officer and the time as a watermark, so a leaked copy names its source.

Sealed package format (``tipline-transfer-package/v1``)::

    b"TIPLINE-TRANSFER-PACKAGE/1\\n"
    header: canonical JSON (ledger_no, transfer_id, document_no, authority, key
            fingerprint, made_at), then b"\\n"
    4 bytes big-endian: length of the sealed key
    sealed key: the package's random data key sealed (HPKE, RFC 9180) to the
                authority's X25519 key, for ``tip`` = the ledger no. and purpose
                ``transfer_package``
    the PDF encrypted under the data key (ChaCha20-Poly1305), the header as AAD

so the header cannot be changed without the package failing to open. The authority
opens it with ``tipline authorities open-package --key FILE PACKAGE``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from tipline.authorities.exceptions import BadPackage, BadPublicKey, FontMissing
from tipline.crypto import primitives
from tipline.crypto.exceptions import DecryptionFailed

MAGIC = b"TIPLINE-TRANSFER-PACKAGE/1\n"
PURPOSE = "transfer_package"
FONT_FAMILY = "WenQuanYi Micro Hei"
# Where Debian's fonts-wqy-microhei puts it, should fc-match be missing.
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
_HEX = re.compile(r"[0-9a-fA-F]{64}")


# --- keys ---------------------------------------------------------------------------------


def parse_public_key(text: str) -> X25519PublicKey:
    """An X25519 public key from 64 hex digits (spaces and colons allowed) or a PEM
    ``PUBLIC KEY`` block; :class:`BadPublicKey` otherwise (also for a key no one could
    seal to, such as a low-order point)."""
    text = text.strip()
    key: Any
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            raise BadPublicKey() from None
        if not isinstance(key, X25519PublicKey):
            raise BadPublicKey()
    else:
        compact = re.sub(r"[\s:]", "", text)
        if not _HEX.fullmatch(compact):
            raise BadPublicKey()
        try:
            key = primitives.public_key_from_bytes(bytes.fromhex(compact))
        except DecryptionFailed:
            raise BadPublicKey() from None
    try:
        primitives.seal_data_key(primitives.new_data_key(), key, tip_id="check", purpose=PURPOSE)
    except (ValueError, DecryptionFailed):
        raise BadPublicKey() from None
    return key


def load_private_key(raw: bytes) -> X25519PrivateKey:
    """The authority's private key from a PEM (PKCS#8) file or 64 hex digits."""
    text = raw.strip()
    if text.startswith(b"-----BEGIN"):
        return primitives.private_key_from_pem(text)
    compact = re.sub(rb"[\s:]", b"", text)
    if not re.fullmatch(rb"[0-9a-fA-F]{64}", compact):
        raise BadPackage("authorities.error.bad_private_key")
    return primitives.private_key_from_bytes(bytes.fromhex(compact.decode()))


def public_key_pem(key: X25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# --- the font -----------------------------------------------------------------------------


def find_font(configured: Path | None) -> Path:
    """The CJK font file: ``TIPLINE_PDF_FONT``, else WenQuanYi Micro Hei found by
    fc-match or at Debian's path. :class:`FontMissing` when there is none (a PDF
    without a CJK font would show empty boxes for every Chinese character)."""
    if configured is not None:
        if configured.is_file():
            return configured
        raise FontMissing(path=str(configured))
    return _default_font()


@functools.cache
def _default_font() -> Path:
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            # Fixed arguments, no shell: nothing from a request reaches this command.
            found = subprocess.run(  # noqa: S603
                [fc_match, "-f", "%{family}\n%{file}", FONT_FAMILY],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            found = []
        if len(found) == 2 and FONT_FAMILY.lower() in found[0].lower():
            path = Path(found[1])
            if path.is_file():
                return path
    for path in FONT_PATHS:
        if path.is_file():
            return path
    raise FontMissing(path=FONT_FAMILY)


# --- the PDF ------------------------------------------------------------------------------


class PackageContent(msgspec.Struct, frozen=True):
    """Everything the PDF shows, decrypted by the caller with the officer's key."""

    ledger_no: str
    watermark: str
    title: str
    facts: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    attachments_heading: str
    attachments: list[str]
    footer: str


# Making a package costs ~1.5 s of CPU (fpdf2 parses the 5 MB CJK font each time): at
# most two at once, each in a worker thread (:func:`make_pdf` is called through
# ``asyncio.to_thread``), so downloads never stall the event loop or the machine.
_PDF_SLOTS = threading.BoundedSemaphore(2)


def make_pdf(content: PackageContent, font: Path, made_at: dt.datetime) -> bytes:
    """The package as PDF bytes; every page carries ``content.watermark``. Blocking."""
    with _PDF_SLOTS:
        return _make_pdf(content, font, made_at)


def _make_pdf(content: PackageContent, font: Path, made_at: dt.datetime) -> bytes:
    from fpdf import FPDF

    class Package(FPDF):
        def header(self) -> None:
            self.set_font("cjk", size=26)
            self.set_text_color(205, 205, 205)
            with self.rotation(35, self.w / 2, self.h / 2):
                width = self.get_string_width(content.watermark)
                self.text((self.w - width) / 2, self.h / 2, content.watermark)
            self.set_font("cjk", size=8)
            self.set_text_color(120, 120, 120)
            self.set_xy(self.l_margin, 8)
            self.cell(0, 5, content.watermark, align="R")
            self.set_xy(self.l_margin, self.t_margin)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("cjk", size=8)
            self.set_text_color(120, 120, 120)
            self.cell(0, 5, f"{content.footer} · {self.page_no()}/{{nb}}", align="C")

    pdf = Package(format="A4")
    pdf.set_title(content.title)
    pdf.set_subject(content.ledger_no)
    pdf.set_creator("tipline")
    pdf.set_creation_date(made_at)
    try:
        pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    except Exception:
        try:
            pdf.add_font("cjk", fname=str(font))
        except Exception as error:
            raise FontMissing(path=str(font)) from error
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, content.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=10)
    for label, value in content.facts:
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(40, 6, label, new_x="RIGHT", new_y="TOP")
        pdf.multi_cell(0, 6, value or "-", new_x="LMARGIN", new_y="NEXT")
    for heading, text in content.sections:
        pdf.ln(3)
        pdf.set_font("cjk", size=12)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(0, 6, text or "-", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 8, content.attachments_heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    for line in content.attachments or ["-"]:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- sealing ------------------------------------------------------------------------------


class PackageHeader(msgspec.Struct, frozen=True):
    ledger_no: str
    transfer_id: int
    document_no: str
    authority: str
    key_fingerprint: str
    made_at: str
    format: str = "tipline-transfer-package/v1"


def seal_package(pdf: bytes, key: X25519PublicKey, header: PackageHeader) -> bytes:
    """The PDF sealed so that only the holder of the authority's private key opens it."""
    header_bytes = json.dumps(
        msgspec.to_builtins(header), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    data_key = primitives.new_data_key()
    sealed_key = primitives.seal_data_key(
        data_key, key, tip_id=header.ledger_no, purpose=PURPOSE
    ).to_bytes()
    body = primitives.encrypt_content(data_key, pdf, context=header_bytes)
    return MAGIC + header_bytes + b"\n" + len(sealed_key).to_bytes(4, "big") + sealed_key + body


def open_package(blob: bytes, key: X25519PrivateKey) -> tuple[PackageHeader, bytes]:
    """The header and the PDF; :class:`BadPackage` for anything else, a wrong key or a
    changed byte."""
    if not blob.startswith(MAGIC):
        raise BadPackage()
    rest = blob[len(MAGIC) :]
    end = rest.find(b"\n")
    if end < 0:
        raise BadPackage()
    header_bytes, rest = rest[:end], rest[end + 1 :]
    try:
        header = msgspec.json.decode(header_bytes, type=PackageHeader)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise BadPackage() from None
    if len(rest) < 4:
        raise BadPackage()
    length = int.from_bytes(rest[:4], "big")
    sealed_key, body = rest[4 : 4 + length], rest[4 + length :]
    try:
        data_key = primitives.open_data_key(
            sealed_key, key, tip_id=header.ledger_no, purpose=PURPOSE
        )
        pdf = primitives.decrypt_content(data_key, body, context=header_bytes)
    except DecryptionFailed:
        raise BadPackage() from None
    return header, pdf


def make_key_pair() -> tuple[bytes, str]:
    """A new key pair for an authority: (private key PEM, public key hex)."""
    private = primitives.new_key_pair()
    return primitives.private_key_pem(private), primitives.public_bytes(private).hex()

"""Helpers for transfer tests: a registered tip, an authority, text out of a PDF."""

from __future__ import annotations

import io
import re
from typing import Any

import pikepdf
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import extra_client
from tipline.authorities import services
from tipline.authorities.schemas import AuthorityIn, AuthorityKind
from tipline.cases.lifecycle import Action, apply_transition
from tipline.crypto import services as crypto
from tipline.intake.tables import Tip
from tipline.ledger.services import SYSTEM, Actor
from tipline.settings import Settings

TIP_TEXT = "MARKER-4471 村主任纠集人员强占耕地"


async def registered_tip(
    app: Litestar, settings: Settings, officer: dict[str, Any], content: str = TIP_TEXT
) -> str:
    """A tip sent through the tip API and registered by ``officer``; its ledger no."""
    from tipline.crypto.services import active_escrow_key

    if await active_escrow_key() is None:
        await crypto.init_escrow_key(settings.data_dir / "escrow-test.pem")
    tipster = await extra_client(app)
    response = await tipster.post(
        "/api/v1/tips", json={"category": "village_bully", "content": content, "who": "某村主任"}
    )
    assert response.status_code == 201, response.text
    ledger_no: str = response.json()["ledger_no"]
    tip = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    assert tip is not None
    await apply_transition(tip["id"], Action.register, Actor.account(officer["id"]), "登记")
    return ledger_no


async def authority(name: str = "示范县公安局", public_key: str = "", **kw: Any) -> int:
    made = await services.create_authority(
        SYSTEM,
        AuthorityIn(
            name=name,
            kind=AuthorityKind(kw.pop("kind", "public_security")),
            public_key=public_key,
            **kw,
        ),
    )
    return made.id


async def transfer_json(
    client: AsyncTestClient[Litestar], ledger_no: str, authority_id: int, document_no: str
) -> Any:
    return await client.post(
        f"/api/v1/cases/{ledger_no}/transfers",
        json={
            "authority_id": authority_id,
            "transferred_on": services.china_today().isoformat(),
            "document_no": document_no,
            "method": "confidential_post",
            "note": "按管辖移送",
        },
    )


def _cmap(font: Any) -> dict[int, str]:
    mapping: dict[int, str] = {}
    if "/ToUnicode" not in font:
        return mapping
    text = font.ToUnicode.read_bytes().decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def pdf_pages_text(data: bytes) -> list[str]:
    """The text of each page, decoded through the fonts' ToUnicode maps (what a reader's
    copy-and-paste or search sees)."""
    pages = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            fonts = {
                str(name): _cmap(font) for name, font in page.Resources.get("/Font", {}).items()
            }
            current: dict[int, str] = {}
            parts: list[str] = []
            for instruction in pikepdf.parse_content_stream(page):
                if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                    continue
                operands, op = instruction.operands, str(instruction.operator)
                if op == "Tf":
                    current = fonts.get(str(operands[0]), {})
                elif op in ("Tj", "TJ", "'", '"'):
                    items = operands[-1] if op != "TJ" else list(operands[0])
                    for item in items if op == "TJ" else [items]:
                        if isinstance(item, pikepdf.String):
                            raw = bytes(item)
                            codes = [
                                int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)
                            ]
                            parts.append("".join(current.get(code, "") for code in codes))
                    parts.append("\n")
            pages.append("".join(parts))
    return pages

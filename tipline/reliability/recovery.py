"""Escrow recovery: every tip re-sealed to a newly designated officer with the escrow key.

When every designated officer has lost their password (or left), no officer key opens
a tip any more; the escrow private key, kept offline in the county's safe, still
opens every tip's data keys (docs/ARCHITECTURE.md principles 1 and 3: nothing lost,
nothing withheld; 保密纪律). ``tipline keys recover`` opens each tip's keys with
it and seals them to the officer the county designates, on the machine where the key
is brought, and each tip re-sealed is a custody event (``tip.access_granted``, reason
"escrow recovery"), so the recovery shows in the ledger tip by tip (监督执纪工作规则 Art. 23: every
hand-off recorded).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline import db
from tipline.crypto import primitives
from tipline.crypto.exceptions import DecryptionFailed
from tipline.crypto.services import active_recipients
from tipline.errors import Invalid, NotFound
from tipline.intake.services import store_tip_keys, tip_key_rows
from tipline.intake.tables import Tip, TipKey
from tipline.ledger.services import Actor, append_event

REASON: Final = "escrow recovery"


class NotAnOfficer(NotFound):
    """The account does not exist or has no designated officer's key."""

    message_key = "reliability.error.not_an_officer"


class WrongEscrowKey(Invalid):
    """The key opens no tip's escrow copy (not the escrow key these tips were sealed to)."""

    message_key = "reliability.error.wrong_escrow_key"


@dataclass(frozen=True)
class RecoveryResult:
    officer_id: int
    fingerprint: str
    resealed: int
    already_held: int
    not_opened: list[str]


async def recover_for_officer(
    escrow_key: X25519PrivateKey, officer_id: int, *, actor: Actor, via: str = "cli"
) -> RecoveryResult:
    """Seal every tip's data keys (content and identity) to ``officer_id``'s current
    key, opening them with ``escrow_key``; one write transaction and one
    ``tip.access_granted`` per tip, so an interrupted run can simply be run again."""
    recipients = [r for r in await active_recipients([officer_id]) if r.kind == "officer"]
    if not recipients:
        raise NotAnOfficer()
    (recipient,) = recipients
    escrow_fingerprint = primitives.fingerprint(escrow_key)
    tips = await Tip.select(Tip.id, Tip.ledger_no).order_by(Tip.id)
    resealed = already = 0
    not_opened: list[str] = []
    for tip in tips:
        tip_id = int(tip["id"])
        rows = await TipKey.select(TipKey.purpose, TipKey.sealed, TipKey.fingerprint).where(
            (TipKey.tip == tip_id) & (TipKey.recipient_kind == "escrow")
        )
        keys: dict[str, bytes] = {}
        for row in rows:
            if row["fingerprint"] != escrow_fingerprint:
                continue
            with contextlib.suppress(DecryptionFailed):
                keys[row["purpose"]] = primitives.open_data_key(
                    bytes(row["sealed"]), escrow_key, tip_id=tip_id, purpose=row["purpose"]
                )
        if "content" not in keys:
            not_opened.append(tip["ledger_no"])
            continue
        async with db.write_transaction():
            held = {
                row["purpose"]
                for row in await TipKey.select(TipKey.purpose).where(
                    (TipKey.tip == tip_id)
                    & (TipKey.recipient_kind == "officer")
                    & (TipKey.recipient_id == str(officer_id))
                    & (TipKey.fingerprint == recipient.fingerprint)
                )
            }
            missing = {purpose: key for purpose, key in keys.items() if purpose not in held}
            if not missing:
                already += 1
                continue
            new_rows: list[tuple[Any, ...]] = []
            for purpose, data_key in sorted(missing.items()):
                new_rows += tip_key_rows(tip_id, purpose, data_key, [recipient], None)
            await store_tip_keys(new_rows)
            await append_event(
                actor,
                "tip.access_granted",
                "tip",
                tip_id,
                {
                    "ledger_no": tip["ledger_no"],
                    "officer_id": officer_id,
                    "fingerprint": recipient.fingerprint,
                    "purposes": sorted(missing),
                    "reason": REASON,
                    "escrow_fingerprint": escrow_fingerprint,
                    "via": via,
                },
            )
            resealed += 1
    if tips and resealed == 0 and already == 0:
        raise WrongEscrowKey()
    return RecoveryResult(
        officer_id=officer_id,
        fingerprint=recipient.fingerprint,
        resealed=resealed,
        already_held=already,
        not_opened=not_opened,
    )

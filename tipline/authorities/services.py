"""Competent authorities and the transfer of tips to them (移送), with what comes back.

Rules and where they come from:

- 纪检监察机关处理检举控告工作规则 (2020) Art. 15–16: a tip is handed to the body
  competent for it within 5 working days, with nothing withheld (不得瞒报、漏报、迟报);
  the transfer's document number (移送函号), date and method are its record.
- 中国共产党纪律检查机关监督执纪工作规则 (2019) Art. 23: every hand-off is signed by the
  person who did it and registered for inspection. A transfer is one write transaction
  holding the :class:`Transfer` row and the ``tip.transferred`` custody event
  (:func:`tipline.cases.lifecycle.apply_transition`); acknowledgement
  (``tip.transfer_acknowledged``) and feedback (``tip.feedback_recorded``) are events too,
  whoever records them (the officer from the paper reply, or the authority itself
  through a one-time link, recorded as the system naming the authority).
- Art. 15 also forbids copying tip content (不得复制、摘抄): the transfer package is made
  in memory for each download, watermarked, never stored, and each download is a
  custody event carrying the SHA-256 of the file handed out.
- Issue 5: the authority's transfer receipt carries the inclusion proof of the
  ``tip.transferred`` event against a signed checkpoint, so the authority can check
  offline that the hand-over is on record (隐藏、扣压 become detectable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
import sqlite3
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import CurrentUser
from tipline.authorities import package
from tipline.authorities.exceptions import (
    AlreadyAcknowledged,
    AuthorityNotFound,
    BadDate,
    DuplicateAuthority,
    DuplicateDocumentNo,
    FeedbackAlreadyRecorded,
    InactiveAuthority,
    MissingField,
    ReplyLinkGone,
    ReplyLinkNotFound,
    TransferNotFound,
)
from tipline.authorities.schemas import (
    AcknowledgementIn,
    AuthorityIn,
    AuthorityKind,
    AuthorityOut,
    FeedbackIn,
    ReplyLinkOut,
    ReplyPage,
    ReplyPurpose,
    TransferIn,
    TransferMethod,
    TransferOut,
    TransferReceipt,
)
from tipline.authorities.tables import Authority, ReplyLink, Transfer
from tipline.cases.exceptions import CaseNotFound, NotARecipient
from tipline.cases.lifecycle import Action, apply_transition
from tipline.cases.services import EXTENSIONS, LEDGER_NO
from tipline.cases.tables import CaseFile
from tipline.crypto.primitives import content_context, decrypt_content, format_fingerprint
from tipline.intake import exceptions as intake_errors
from tipline.intake import services as intake
from tipline.intake.schemas import TipFields
from tipline.intake.tables import Tip, TipAttachment
from tipline.ledger import merkle
from tipline.ledger.checkpoints import ProofBundle, log_verifier, proof_bundle, receipt_for_event
from tipline.ledger.services import SYSTEM, Actor, append_event, event_bytes
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings
from tipline.web.i18n import translate

CHINA = intake.CHINA
REPLY_PATH = "/authority-reply/"


def _is_unique_violation(error: BaseException) -> bool:
    """A unique index refused the row: two officers (or two admins) raced past the check.
    On SQLite writers are serialized, so only PostgreSQL gets here in practice."""
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE" in str(error)
    return type(error).__name__ == "UniqueViolationError"


def china_today(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(CHINA).date()


def _clean(text: str) -> str:
    return " ".join(text.split())


# --- the registry -------------------------------------------------------------------------


def _authority_out(row: dict[str, Any]) -> AuthorityOut:
    return AuthorityOut(
        id=row["id"],
        name=row["name"],
        kind=AuthorityKind(row["kind"]),
        contact_person=row["contact_person"],
        phone=row["phone"],
        address=row["address"],
        public_key=row["public_key"],
        key_fingerprint=format_fingerprint(row["key_fingerprint"])
        if row["key_fingerprint"]
        else None,
        active=bool(row["active"]),
    )


async def list_authorities(*, active_only: bool = False) -> list[AuthorityOut]:
    query = Authority.select().order_by(Authority.kind).order_by(Authority.name)
    if active_only:
        query = query.where(Authority.active.eq(True))
    return [_authority_out(row) for row in await query]


async def get_authority(authority_id: int) -> AuthorityOut:
    row = await Authority.select().where(Authority.id == authority_id).first()
    if row is None:
        raise AuthorityNotFound()
    return _authority_out(row)


def _authority_values(data: AuthorityIn) -> dict[Any, Any]:
    """The row's values; the key is checked and stored as 64 hex digits."""
    name = _clean(data.name)
    if not name:
        raise MissingField(field="name")
    public_key = fingerprint = None
    if data.public_key.strip():
        key = package.parse_public_key(data.public_key)
        raw = package.primitives.public_bytes(key)
        public_key, fingerprint = raw.hex(), package.primitives.fingerprint(raw)
    return {
        "name": name,
        "kind": data.kind.value,
        "contact_person": _clean(data.contact_person),
        "phone": _clean(data.phone),
        "address": _clean(data.address),
        "public_key": public_key,
        "key_fingerprint": fingerprint,
        "active": data.active,
    }


async def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = Authority.select(Authority.id).where(Authority.name == name)
    if except_id is not None:
        query = query.where(Authority.id != except_id)
    return await query.first() is not None


async def create_authority(actor: Actor, data: AuthorityIn) -> AuthorityOut:
    """Register an authority (recorded as ``authority.registered``)."""
    values = _authority_values(data)
    try:
        authority_id = await _create_authority(actor, values)
    except Exception as error:
        if _is_unique_violation(error):
            raise DuplicateAuthority(name=values["name"]) from None
        raise
    return await get_authority(authority_id)


async def _create_authority(actor: Actor, values: dict[Any, Any]) -> int:
    async with db.write_transaction():
        if await _name_taken(values["name"]):
            raise DuplicateAuthority(name=values["name"])
        rows = await Authority.insert(Authority(**values)).returning(Authority.id)
        authority_id = int(rows[0]["id"])
        await append_event(
            actor,
            "authority.registered",
            "authority",
            authority_id,
            {
                "name": values["name"],
                "kind": values["kind"],
                "key_fingerprint": values["key_fingerprint"],
                "active": values["active"],
            },
        )
    return authority_id


async def update_authority(actor: Actor, authority_id: int, data: AuthorityIn) -> AuthorityOut:
    """Change an authority's details (recorded as ``authority.updated`` with the names of
    the changed fields and the new key's fingerprint). Nothing is deleted: an authority
    that takes no more transfers is made inactive."""
    values = _authority_values(data)
    async with db.write_transaction():
        old = await Authority.select().where(Authority.id == authority_id).first()
        if old is None:
            raise AuthorityNotFound()
        if await _name_taken(values["name"], authority_id):
            raise DuplicateAuthority(name=values["name"])
        changed = sorted(name for name, value in values.items() if old[name] != value)
        if changed:
            await Authority.update({**values, Authority.updated_at: dt.datetime.now(dt.UTC)}).where(
                Authority.id == authority_id
            )
            await append_event(
                actor,
                "authority.updated",
                "authority",
                authority_id,
                {
                    "name": values["name"],
                    "changed": changed,
                    "key_fingerprint": values["key_fingerprint"],
                    "active": values["active"],
                },
            )
    return await get_authority(authority_id)


# --- transfers ----------------------------------------------------------------------------


async def _tip(ledger_no: str) -> dict[str, Any]:
    if not LEDGER_NO.fullmatch(ledger_no):
        raise CaseNotFound()
    row = (
        await Tip.select(
            Tip.id, Tip.ledger_no, Tip.status, Tip.channel, Tip.received_at, Tip.content
        )
        .where(Tip.ledger_no == ledger_no)
        .first()
    )
    if row is None:
        raise CaseNotFound()
    return row


async def _officer_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(
        Account.id.is_in(sorted(ids))
    )
    return {int(row["id"]): row["display_name"] for row in rows}


def _transfer_out(row: dict[str, Any], ledger_no: str, names: dict[int, str]) -> TransferOut:
    return TransferOut(
        id=row["id"],
        ledger_no=ledger_no,
        authority_id=row["authority"],
        authority=row["authority.name"],
        authority_sealed=bool(row["authority.public_key"]),
        transferred_on=row["transferred_on"],
        document_no=row["document_no"],
        method=TransferMethod(row["method"]),
        officer_id=row["officer_id"],
        officer=names.get(row["officer_id"], str(row["officer_id"])),
        note=row["note"],
        event_seq=row["event_seq"],
        acknowledged_on=row["acknowledged_on"],
        acknowledged_document_no=row["acknowledged_document_no"],
        acknowledged_via=row["acknowledged_via"],
        feedback_on=row["feedback_on"],
        feedback_document_no=row["feedback_document_no"],
        feedback_summary=row["feedback_summary"],
        feedback_outcome=row["feedback_outcome"],
        feedback_via=row["feedback_via"],
    )


def _transfer_query() -> Any:
    return Transfer.select(
        *Transfer.all_columns(),
        Transfer.authority.name,
        Transfer.authority.public_key,
        Transfer.tip.ledger_no,
    )


async def _outs(rows: list[dict[str, Any]]) -> list[TransferOut]:
    names = await _officer_names({int(row["officer_id"]) for row in rows})
    return [_transfer_out(row, row["tip.ledger_no"], names) for row in rows]


async def list_transfers(ledger_no: str) -> list[TransferOut]:
    """Every transfer of a tip, oldest first (metadata only)."""
    tip = await _tip(ledger_no)
    rows = await _transfer_query().where(Transfer.tip == tip["id"]).order_by(Transfer.id)
    return await _outs(rows)


async def get_transfer(ledger_no: str, transfer_id: int) -> TransferOut:
    tip = await _tip(ledger_no)
    rows = await _transfer_query().where((Transfer.tip == tip["id"]) & (Transfer.id == transfer_id))
    if not rows:
        raise TransferNotFound()
    return (await _outs(rows))[0]


def _document_key(authority_id: int, document_no: str) -> str:
    return f"{authority_id}:{document_no}"


async def transfer(
    user: CurrentUser, ledger_no: str, data: TransferIn, *, today: dt.date | None = None
) -> TransferOut:
    """Record the hand-over of a tip to an authority: the :class:`Transfer` row and the
    ``tip.transferred`` event (status ``transferred``) in one write transaction.

    Refused: an unknown or inactive authority, a date in the future, a document number
    this authority already has (:class:`DuplicateDocumentNo`), a tip whose status
    allows no transfer (voided, merged, closed, not yet registered:
    :class:`~tipline.cases.exceptions.TransitionNotAllowed`).
    """
    today = today or china_today()
    document_no = _clean(data.document_no)
    if not document_no:
        raise MissingField(field="document_no")
    if data.transferred_on > today:
        raise BadDate()
    tip = await _tip(ledger_no)
    try:
        transfer_id = await _transfer(user, int(tip["id"]), data, document_no)
    except Exception as error:
        if _is_unique_violation(error):
            name = (
                await Authority.select(Authority.name)
                .where(Authority.id == data.authority_id)
                .first()
            )
            raise DuplicateDocumentNo(
                document_no=document_no, authority=name["name"] if name else ""
            ) from None
        raise
    return await get_transfer(ledger_no, transfer_id)


async def _transfer(user: CurrentUser, tip_id: int, data: TransferIn, document_no: str) -> int:
    async with db.write_transaction():
        authority = await Authority.select().where(Authority.id == data.authority_id).first()
        if authority is None:
            raise AuthorityNotFound()
        if not authority["active"]:
            raise InactiveAuthority(name=authority["name"])
        key = _document_key(authority["id"], document_no)
        if await Transfer.select(Transfer.id).where(Transfer.document_key == key).first():
            raise DuplicateDocumentNo(document_no=document_no, authority=authority["name"])
        rows = await Transfer.insert(
            Transfer(
                tip=tip_id,
                authority=authority["id"],
                transferred_on=data.transferred_on,
                document_no=document_no,
                document_key=key,
                method=data.method.value,
                officer_id=user.account_id,
                note=data.note.strip(),
            )
        ).returning(Transfer.id)
        transfer_id = int(rows[0]["id"])
        await apply_transition(
            tip_id,
            Action.transfer,
            Actor.account(user.account_id),
            data.note.strip(),
            details={
                "authority": authority["name"],
                "authority_id": authority["id"],
                "document_no": document_no,
                "method": data.method.value,
                "transfer_id": transfer_id,
                "transferred_on": data.transferred_on.isoformat(),
            },
        )
        event = (
            await CustodyEvent.select(CustodyEvent.seq)
            .where(
                (CustodyEvent.action == "tip.transferred")
                & (CustodyEvent.object_type == "tip")
                & (CustodyEvent.object_id == str(tip_id))
            )
            .order_by(CustodyEvent.seq, ascending=False)
            .first()
        )
        assert event is not None
        await Transfer.update({Transfer.event_seq: event["seq"]}).where(Transfer.id == transfer_id)
    return transfer_id


async def _transfer_row(transfer_id: int) -> dict[str, Any]:
    rows = await _transfer_query().where(Transfer.id == transfer_id)
    if not rows:
        raise TransferNotFound()
    row: dict[str, Any] = rows[0]
    return row


def _check_reply_date(on: dt.date, row: dict[str, Any], today: dt.date) -> None:
    if on > today or on < row["transferred_on"]:
        raise BadDate()


async def _acknowledge(
    actor: Actor, row: dict[str, Any], data: AcknowledgementIn, via: str, today: dt.date
) -> None:
    _check_reply_date(data.acknowledged_on, row, today)
    changed = (
        await Transfer.update(
            {
                Transfer.acknowledged_on: data.acknowledged_on,
                Transfer.acknowledged_document_no: _clean(data.document_no),
                Transfer.acknowledged_via: via,
            }
        )
        .where((Transfer.id == row["id"]) & Transfer.acknowledged_on.is_null())
        .returning(Transfer.id)
    )
    if not changed:
        raise AlreadyAcknowledged()
    await append_event(
        actor,
        "tip.transfer_acknowledged",
        "tip",
        row["tip"],
        {
            "ledger_no": row["tip.ledger_no"],
            "transfer_id": row["id"],
            "authority": row["authority.name"],
            "authority_id": row["authority"],
            "acknowledged_on": data.acknowledged_on.isoformat(),
            "document_no": _clean(data.document_no),
            "via": via,
        },
    )


async def _feedback(
    actor: Actor, row: dict[str, Any], data: FeedbackIn, via: str, today: dt.date
) -> None:
    _check_reply_date(data.feedback_on, row, today)
    summary = data.summary.strip()
    if not summary:
        raise MissingField(field="summary")
    changed = (
        await Transfer.update(
            {
                Transfer.feedback_on: data.feedback_on,
                Transfer.feedback_document_no: _clean(data.document_no),
                Transfer.feedback_summary: summary,
                Transfer.feedback_outcome: data.outcome.value,
                Transfer.feedback_via: via,
            }
        )
        .where((Transfer.id == row["id"]) & Transfer.feedback_on.is_null())
        .returning(Transfer.id)
    )
    if not changed:
        raise FeedbackAlreadyRecorded()
    await apply_transition(
        row["tip"],
        Action.record_feedback,
        actor,
        summary,
        details={
            "transfer_id": row["id"],
            "authority": row["authority.name"],
            "authority_id": row["authority"],
            "feedback_on": data.feedback_on.isoformat(),
            "document_no": _clean(data.document_no),
            "outcome": data.outcome.value,
            "via": via,
        },
    )


async def record_acknowledgement(
    user: CurrentUser,
    ledger_no: str,
    transfer_id: int,
    data: AcknowledgementIn,
    *,
    today: dt.date | None = None,
) -> TransferOut:
    """The officer records the authority's acknowledgement (签收) from its paper reply."""
    await get_transfer(ledger_no, transfer_id)
    async with db.write_transaction():
        row = await _transfer_row(transfer_id)
        await _acknowledge(
            Actor.account(user.account_id), row, data, "officer", today or china_today()
        )
    return await get_transfer(ledger_no, transfer_id)


async def record_feedback(
    user: CurrentUser,
    ledger_no: str,
    transfer_id: int,
    data: FeedbackIn,
    *,
    today: dt.date | None = None,
) -> TransferOut:
    """The officer records the authority's feedback (反馈) from its paper reply; the tip
    moves to ``feedback_received``."""
    await get_transfer(ledger_no, transfer_id)
    async with db.write_transaction():
        row = await _transfer_row(transfer_id)
        await _feedback(
            Actor.account(user.account_id), row, data, "officer", today or china_today()
        )
    return await get_transfer(ledger_no, transfer_id)


# --- one-time links -----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_reply_link(
    user: CurrentUser,
    settings: Settings,
    ledger_no: str,
    transfer_id: int,
    purpose: ReplyPurpose,
    valid_days: int = 14,
    *,
    now: dt.datetime | None = None,
) -> ReplyLinkOut:
    """A one-time link for the authority (shown once; only its SHA-256 is stored),
    recorded as ``tip.transfer_reply_link_created``."""
    await get_transfer(ledger_no, transfer_id)
    now = now or dt.datetime.now(dt.UTC)
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(days=valid_days)
    async with db.write_transaction():
        row = await _transfer_row(transfer_id)
        await ReplyLink.insert(
            ReplyLink(
                transfer=transfer_id,
                purpose=purpose.value,
                token_sha256=_token_hash(token),
                created_by=user.account_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        await append_event(
            Actor.account(user.account_id),
            "tip.transfer_reply_link_created",
            "tip",
            row["tip"],
            {
                "ledger_no": row["tip.ledger_no"],
                "transfer_id": transfer_id,
                "purpose": purpose.value,
                "expires_at": expires_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            },
        )
    return ReplyLinkOut(
        url=f"{settings.base_url}{REPLY_PATH}{token}", purpose=purpose, expires_at=expires_at
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def _live_link(token: str, now: dt.datetime) -> dict[str, Any]:
    """The link's row; 404 for an unknown token, 410 for a used or expired one."""
    if not 20 <= len(token) <= 64:
        raise ReplyLinkNotFound()
    link = await ReplyLink.select().where(ReplyLink.token_sha256 == _token_hash(token)).first()
    if link is None:
        raise ReplyLinkNotFound()
    if link["used_at"] is not None or _aware(link["expires_at"]) <= now:
        raise ReplyLinkGone()
    return link


async def reply_page(token: str, *, now: dt.datetime | None = None) -> ReplyPage:
    """What the link shows: the ledger no. and the transfer's document no., nothing else."""
    link = await _live_link(token, now or dt.datetime.now(dt.UTC))
    row = await _transfer_row(link["transfer"])
    return ReplyPage(
        purpose=ReplyPurpose(link["purpose"]),
        ledger_no=row["tip.ledger_no"],
        document_no=row["document_no"],
        authority=row["authority.name"],
    )


async def submit_reply(
    token: str,
    data: AcknowledgementIn | FeedbackIn,
    *,
    now: dt.datetime | None = None,
) -> ReplyPage:
    """The authority's acknowledgement or feedback through its one-time link, recorded
    as the system with details naming the authority; the link is spent in the same
    transaction (a second use is 410)."""
    now = now or dt.datetime.now(dt.UTC)
    page = await reply_page(token, now=now)
    async with db.write_transaction():
        link = await _live_link(token, now)
        spent = (
            await ReplyLink.update({ReplyLink.used_at: now})
            .where((ReplyLink.id == link["id"]) & ReplyLink.used_at.is_null())
            .returning(ReplyLink.id)
        )
        if not spent:
            raise ReplyLinkGone()
        row = await _transfer_row(link["transfer"])
        today = china_today(now)
        if page.purpose is ReplyPurpose.acknowledgement:
            if not isinstance(data, AcknowledgementIn):
                raise ReplyLinkNotFound()
            await _acknowledge(SYSTEM, row, data, "link", today)
        else:
            if not isinstance(data, FeedbackIn):
                raise ReplyLinkNotFound()
            await _feedback(SYSTEM, row, data, "link", today)
    return page


# --- the transfer package -----------------------------------------------------------------


class PackageFile(msgspec.Struct, frozen=True):
    filename: str
    media_type: str
    data: bytes
    sha256: str
    sealed: bool


async def make_package(
    user: CurrentUser,
    key: X25519PrivateKey,
    settings: Settings,
    locale: str,
    ledger_no: str,
    transfer_id: int,
    *,
    now: dt.datetime | None = None,
) -> PackageFile:
    """The transfer package, decrypted with the officer's session key and made in
    memory: a watermarked PDF, sealed to the authority's key when it has one. Recorded
    as ``tip.transfer_package_downloaded`` with the SHA-256 of the file handed out."""
    now = now or dt.datetime.now(dt.UTC)
    font = package.find_font(settings.pdf_font)
    out = await get_transfer(ledger_no, transfer_id)
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    try:
        data_key = await intake.tip_data_key(tip_id, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None
    fields = msgspec.json.decode(
        decrypt_content(
            data_key, bytes(tip["content"]), context=content_context(tip_id, "content")
        ),
        type=TipFields,
    )
    authority = await Authority.select().where(Authority.id == out.authority_id).first()
    assert authority is not None
    content = await _package_content(user, locale, tip, fields, out, now)
    pdf = await asyncio.to_thread(package.make_pdf, content, font, now)
    stamp = now.astimezone(CHINA).strftime("%Y%m%d-%H%M%S")
    base = f"{ledger_no}-transfer-{transfer_id}-{stamp}"
    if authority["public_key"]:
        header = package.PackageHeader(
            ledger_no=ledger_no,
            transfer_id=transfer_id,
            document_no=out.document_no,
            authority=out.authority,
            key_fingerprint=authority["key_fingerprint"],
            made_at=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        )
        public = package.primitives.public_key_from_bytes(bytes.fromhex(authority["public_key"]))
        file = package.seal_package(pdf, public, header)
        filename, media_type, sealed = f"{base}.pdf.sealed", "application/octet-stream", True
    else:
        file, filename, media_type, sealed = pdf, f"{base}.pdf", "application/pdf", False
    digest = hashlib.sha256(file).hexdigest()
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "tip.transfer_package_downloaded",
            "tip",
            tip_id,
            {
                "ledger_no": ledger_no,
                "transfer_id": transfer_id,
                "authority_id": out.authority_id,
                "sha256": digest,
                "sealed": sealed,
                "key_fingerprint": authority["key_fingerprint"] if sealed else None,
                "bytes": len(file),
            },
        )
    return PackageFile(filename, media_type, file, digest, sealed)


async def _package_content(
    user: CurrentUser,
    locale: str,
    tip: dict[str, Any],
    fields: TipFields,
    out: TransferOut,
    now: dt.datetime,
) -> package.PackageContent:
    def t(key: str, **values: Any) -> str:
        return translate(locale, key, **values)

    ledger_no = tip["ledger_no"]
    moment = now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    case = (
        await CaseFile.select(
            CaseFile.category, CaseFile.summary, CaseFile.registered_at, CaseFile.township.name
        )
        .where(CaseFile.tip == tip["id"])
        .first()
    )
    category = (case or {}).get("category") or fields.category
    township = (case or {}).get("township.name") or fields.township or ""
    facts = [
        (t("authorities.pdf.ledger_no"), ledger_no),
        (t("authorities.pdf.received_at"), intake.hour_text(tip["received_at"])),
        (t("authorities.pdf.channel"), t(f"cases.channel.{tip['channel']}")),
        (t("authorities.pdf.category"), t(f"intake.category.{category}")),
        (t("authorities.pdf.township"), township),
        (
            t("authorities.pdf.registered_at"),
            case["registered_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if case else "",
        ),
        (t("authorities.pdf.authority"), out.authority),
        (t("authorities.pdf.document_no"), out.document_no),
        (t("authorities.pdf.transferred_on"), out.transferred_on.isoformat()),
        (t("authorities.pdf.method"), t(f"authorities.method.{out.method.value}")),
        (t("authorities.pdf.officer"), user.display_name),
        (t("authorities.pdf.event_seq"), str(out.event_seq or "")),
    ]
    place = " ".join(part for part in (fields.township, fields.village) if part)
    sections = [
        (t("authorities.pdf.summary"), (case or {}).get("summary") or ""),
        (t("authorities.pdf.place"), place),
        (t("authorities.pdf.occurred"), fields.occurred or ""),
        (t("authorities.pdf.who"), fields.who or ""),
        (t("authorities.pdf.content"), fields.content),
    ]
    attachments = (
        await TipAttachment.select(
            TipAttachment.media_type, TipAttachment.size, TipAttachment.removed
        )
        .where(TipAttachment.tip == tip["id"])
        .order_by(TipAttachment.id)
    )
    lines = []
    for number, row in enumerate(attachments, start=1):
        name = f"{ledger_no}-{number}.{EXTENSIONS.get(row['media_type'], 'bin')}"
        removed = ", ".join(json.loads(row["removed"] or "[]"))
        lines.append(
            t(
                "authorities.pdf.attachment",
                name=name,
                media_type=row["media_type"],
                kb=round(row["size"] / 1024, 1),
                removed=removed or "-",
            )
        )
    return package.PackageContent(
        ledger_no=ledger_no,
        watermark=t(
            "authorities.pdf.watermark", ledger_no=ledger_no, officer=user.display_name, at=moment
        ),
        title=t("authorities.pdf.title", ledger_no=ledger_no),
        facts=facts,
        sections=sections,
        attachments_heading=t("authorities.pdf.attachments", n=len(lines)),
        attachments=lines,
        footer=t("authorities.pdf.footer"),
    )


# --- the receipt --------------------------------------------------------------------------


async def receipt(settings: Settings, ledger_no: str, transfer_id: int) -> TransferReceipt:
    """The transfer receipt: the ``tip.transferred`` event's seq and leaf hash and, once
    a signed checkpoint holds it, its inclusion proof (``receipt_for_event``)."""
    out = await get_transfer(ledger_no, transfer_id)
    if out.event_seq is None:
        raise TransferNotFound()
    event = await CustodyEvent.select().where(CustodyEvent.seq == out.event_seq).first()
    assert event is not None
    leaf = merkle.leaf_hash(event_bytes(event)).hex()
    proof = await receipt_for_event(out.event_seq)
    return TransferReceipt(
        transfer=out,
        seq=out.event_seq,
        leaf_hash=leaf,
        log_key=log_verifier(settings).vkey,
        leaf_index=proof.leaf_index if proof else None,
        tree_size=proof.tree_size if proof else None,
        root=proof.root if proof else None,
        proof=proof.proof if proof else None,
        checkpoint=proof.checkpoint if proof else None,
    )


async def receipt_bundle(ledger_no: str, transfer_id: int) -> ProofBundle:
    """The proof bundle for ``tipline ledger check-proof`` (409 until a checkpoint
    holds the event)."""
    out = await get_transfer(ledger_no, transfer_id)
    if out.event_seq is None:
        raise TransferNotFound()
    return await proof_bundle(out.event_seq)


async def tip_status(ledger_no: str) -> str:
    status: str = (await _tip(ledger_no))["status"]
    return status

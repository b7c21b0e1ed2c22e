"""Notice boards (村务公开栏): the board, its disclosures against the schedule, and the
township's inspections.

Art. 30 of the Organic Law of Villagers' Committees (2010, amended 2018): general
matters are disclosed at least quarterly, income and expenditure monthly where
collective transactions are many, major matters at once; the 2004 Opinions (中办发
〔2004〕17号) want a fixed board where people easily see it. The supervisory committee
reviews and signs what is posted (Art. 32; local catalogues), so a disclosure needs
its sign-off and a photo as evidence. Photos are cleaned like tip attachments (EXIF and
GPS removed, content-sniffed, bombs refused) before they are stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from typing import Any

import msgspec

from tipline import db
from tipline.auth import CurrentUser
from tipline.filecleaning import AttachmentLimits, UnsupportedType, clean_attachment
from tipline.filecleaning.sniff import IMAGE_TYPES
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import require_visible
from tipline.settings import Settings
from tipline.workdays.services import today_local
from villageaffairs.access import require_township_writer, require_village
from villageaffairs.hooks import VillageHooks
from villageaffairs.noticeboards.exceptions import (
    BadDisclosure,
    BadInspection,
    InspectionNotFound,
    LocationRequired,
    PhotoNotFound,
    SignOffRequired,
)
from villageaffairs.noticeboards.tables import (
    Cadence,
    Category,
    Disclosure,
    Inspection,
    InspectionStatus,
    NoticeBoard,
    Photo,
)

CHANGED = VillageHooks("notice board")
"""Run when a village's board or inspection changes (``campaigns`` re-derives its task)."""
DISCLOSURE_GRACE_DAYS = 10
"""A period's disclosure is due this many days after the period ends."""
PHOTO_TYPES = IMAGE_TYPES  # the allow-list is tipline.filecleaning's
MAX_TEXT = 2000
CHECKLIST = (
    "fixed_location",  # 设在便于群众观看的固定地点 (2004 Opinions)
    "standard_layout",  # 按县统一标准制作
    "content_current",  # 内容按期更新
    "sc_signed",  # 公开内容经村务监督委员会审核签字
    "finance_detailed",  # 财务收支逐笔公开
    "complaint_contact",  # 公布监督、举报电话
)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class BoardOut(msgspec.Struct, frozen=True):
    village_id: int
    location: str
    standardised: bool
    finance_monthly: bool
    photo_id: int | None


class DisclosureOut(msgspec.Struct, frozen=True):
    id: int
    category: Category
    period: str
    title: str
    posted_on: dt.date
    photo_id: int | None
    sc_signed_by: str


class MissingDisclosure(msgspec.Struct, frozen=True):
    category: Category
    period: str
    due_on: dt.date
    overdue_days: int


class InspectionOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    inspected_on: dt.date
    checklist: dict[str, bool]
    findings: str
    fix_by: dt.date | None
    status: InspectionStatus
    reinspected_on: dt.date | None
    reinspection_note: str


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- photos -------------------------------------------------------------------------------


async def store_photo(user: CurrentUser, data: bytes, settings: Settings) -> int:
    """Clean an uploaded photo (JPEG or PNG only) and store it; joins the caller's transaction."""
    limits = AttachmentLimits.from_settings(settings)
    cleaned = await asyncio.to_thread(clean_attachment, data, None, limits)
    if cleaned.media_type not in PHOTO_TYPES:
        raise UnsupportedType()
    rows = await Photo.insert(
        Photo(
            media_type=cleaned.media_type,
            data=cleaned.data,
            sha256=hashlib.sha256(cleaned.data).hexdigest(),
            size=cleaned.size,
            uploaded_by=user.account_id,
        )
    ).returning(Photo.id)
    return int(rows[0]["id"])


async def photo(user: CurrentUser, photo_id: int) -> tuple[bytes, str]:
    """A stored photo, if it belongs to a board or disclosure of a village the user sees."""
    row = await Photo.select(Photo.data, Photo.media_type).where(Photo.id == photo_id).first()
    owner = (
        await NoticeBoard.select(NoticeBoard.village).where(NoticeBoard.photo == photo_id).first()
    )
    if owner is None:
        owner = (
            await Disclosure.select(Disclosure.village).where(Disclosure.photo == photo_id).first()
        )
    if row is None or owner is None:
        raise PhotoNotFound(photo_id=photo_id)
    await require_visible(user, owner["village"])
    return bytes(row["data"]), row["media_type"]


# --- the board ---------------------------------------------------------------------------


async def board_of(village_id: int) -> BoardOut | None:
    row = await NoticeBoard.select().where(NoticeBoard.village == village_id).first()
    if row is None:
        return None
    return BoardOut(
        village_id=village_id,
        location=row["location"],
        standardised=bool(row["standardised"]),
        finance_monthly=bool(row["finance_monthly"]),
        photo_id=row["photo"],
    )


async def save_board(
    user: CurrentUser,
    village_id: int,
    *,
    location: str,
    standardised: bool,
    finance_monthly: bool,
    photo_data: bytes | None,
    settings: Settings,
) -> BoardOut:
    """Record or update the village's board (township staff of its township)."""
    await require_township_writer(user, village_id)
    location = location.strip()[:200]
    if not location:
        raise LocationRequired()
    async with db.write_transaction():
        photo_id = await store_photo(user, photo_data, settings) if photo_data else None
        existing = await board_of(village_id)
        values: dict[Any, Any] = {
            NoticeBoard.location: location,
            NoticeBoard.standardised: standardised,
            NoticeBoard.finance_monthly: finance_monthly,
            NoticeBoard.updated_by: user.account_id,
            NoticeBoard.updated_at: dt.datetime.now(dt.UTC),
        }
        if photo_id is not None:
            values[NoticeBoard.photo] = photo_id
        if existing is None:
            await NoticeBoard.insert(
                NoticeBoard(
                    village=village_id,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
        else:
            await NoticeBoard.update(values).where(NoticeBoard.village == village_id)
        await append_event(
            Actor.account(user.account_id),
            "notice_board.saved",
            "notice_board",
            village_id,
            {"standardised": standardised, "photo": photo_id is not None},
        )
        await CHANGED.changed(village_id)
    board = await board_of(village_id)
    assert board is not None
    return board


# --- the disclosure schedule ------------------------------------------------------------------


def cadence(category: Category, finance_monthly: bool) -> Cadence:
    """Art. 30: finance monthly where transactions are many (else with the quarterly
    general disclosure), general affairs quarterly, major matters at once."""
    if category is Category.major:
        return Cadence.event
    if category is Category.finance and finance_monthly:
        return Cadence.monthly
    return Cadence.quarterly


def valid_period(category: Category, period: str, finance_monthly: bool) -> bool:
    kind = cadence(category, finance_monthly)
    if kind is Cadence.monthly:
        return bool(_MONTH.match(period))
    if kind is Cadence.quarterly:
        return bool(_QUARTER.match(period))
    return 0 < len(period) <= 40


def periods_between(
    kind: Cadence, start: dt.date, today: dt.date, grace_days: int = DISCLOSURE_GRACE_DAYS
) -> list[tuple[str, dt.date]]:
    """Periods that began on or after ``start``'s period and whose due date has passed."""
    months = 1 if kind is Cadence.monthly else 3
    month0 = ((start.month - 1) // months) * months
    year = start.year
    answer: list[tuple[str, dt.date]] = []
    while True:
        first = dt.date(year + month0 // 12, month0 % 12 + 1, 1)
        after = month0 + months
        end = dt.date(year + after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)
        due = end + dt.timedelta(days=grace_days)
        if due >= today:
            return answer
        label = (
            f"{first.year}-{first.month:02d}"
            if kind is Cadence.monthly
            else f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        )
        answer.append((label, due))
        month0 = after


async def disclosures(village_id: int, limit: int | None = None) -> list[DisclosureOut]:
    query = (
        Disclosure.select()
        .where(Disclosure.village == village_id)
        .order_by(Disclosure.posted_on, ascending=False)
        .order_by(Disclosure.id, ascending=False)
    )
    if limit:
        query = query.limit(limit)
    return [
        DisclosureOut(
            id=row["id"],
            category=Category(row["category"]),
            period=row["period"],
            title=row["title"],
            posted_on=_date(row["posted_on"]) or dt.date.min,
            photo_id=row["photo"],
            sc_signed_by=row["sc_signed_by"],
        )
        for row in await query
    ]


async def missing_disclosures(
    village_id: int, *, since: dt.date, today: dt.date | None = None
) -> list[MissingDisclosure]:
    """Scheduled disclosures (finance, general) past due and not posted, flagged."""
    today = today or today_local()
    board = await board_of(village_id)
    finance_monthly = board.finance_monthly if board else False
    posted = {(d.category, d.period) for d in await disclosures(village_id)}
    missing = []
    for category in (Category.finance, Category.general):
        kind = cadence(category, finance_monthly)
        for period, due in periods_between(kind, since, today):
            if (category, period) not in posted:
                missing.append(MissingDisclosure(category, period, due, (today - due).days))
    return sorted(missing, key=lambda m: (m.due_on, m.category.value))


async def post_disclosure(
    user: CurrentUser,
    village_id: int,
    *,
    category: Category,
    period: str,
    title: str,
    posted_on: dt.date,
    sc_signed_by: str,
    photo_data: bytes | None,
    settings: Settings,
) -> DisclosureOut:
    """Record a posting with the supervisory committee's sign-off and, ideally, a photo."""
    from villageaffairs.supervision.services import active_committee

    await require_township_writer(user, village_id)
    board = await board_of(village_id)
    period, title, signer = period.strip(), title.strip()[:200], sc_signed_by.strip()[:50]
    if not title or not valid_period(category, period, board.finance_monthly if board else False):
        raise BadDisclosure(period=period[:40])
    committee = await active_committee(village_id)
    if not signer or (committee and signer not in {m.name for m in committee.members}):
        raise SignOffRequired()
    async with db.write_transaction():
        if category is not Category.major and await Disclosure.exists().where(
            (Disclosure.village == village_id)
            & (Disclosure.category == category.value)
            & (Disclosure.period == period)
        ):
            raise BadDisclosure(period=period)
        photo_id = await store_photo(user, photo_data, settings) if photo_data else None
        rows = await Disclosure.insert(
            Disclosure(
                village=village_id,
                category=category.value,
                period=period,
                title=title,
                posted_on=posted_on,
                photo=photo_id,
                sc_signed=True,
                sc_signed_by=signer,
                recorded_by=user.account_id,
            )
        ).returning(Disclosure.id)
        await append_event(
            Actor.account(user.account_id),
            "disclosure.posted",
            "notice_board",
            village_id,
            {"category": category.value, "period": period, "photo": photo_id is not None},
        )
    return next(d for d in await disclosures(village_id) if d.id == rows[0]["id"])


# --- inspections ----------------------------------------------------------------------------


def _inspection_out(row: dict[str, Any]) -> InspectionOut:
    checklist = row["checklist"]
    if isinstance(checklist, str):
        checklist = msgspec.json.decode(checklist or "{}")
    return InspectionOut(
        id=row["id"],
        village_id=row["village"],
        inspected_on=_date(row["inspected_on"]) or dt.date.min,
        checklist={key: bool(checklist.get(key)) for key in CHECKLIST},
        findings=row["findings"],
        fix_by=_date(row["fix_by"]),
        status=InspectionStatus(row["status"]),
        reinspected_on=_date(row["reinspected_on"]),
        reinspection_note=row["reinspection_note"],
    )


async def inspections(village_id: int) -> list[InspectionOut]:
    rows = (
        await Inspection.select()
        .where(Inspection.village == village_id)
        .order_by(Inspection.inspected_on, ascending=False)
    )
    return [_inspection_out(row) for row in rows]


async def inspect(
    user: CurrentUser,
    village_id: int,
    *,
    inspected_on: dt.date,
    checklist: dict[str, bool],
    findings: str,
    fix_by: dt.date | None,
) -> InspectionOut:
    """A township inspection: every checklist item met passes; otherwise the findings and
    a fix-by date are required and a re-inspection follows."""
    await require_township_writer(user, village_id)
    items = {key: bool(checklist.get(key)) for key in CHECKLIST}
    passed = all(items.values())
    findings = findings.strip()[:MAX_TEXT]
    if not passed and (not findings or fix_by is None or fix_by < inspected_on):
        raise BadInspection()
    async with db.write_transaction():
        rows = await Inspection.insert(
            Inspection(
                village=village_id,
                inspected_on=inspected_on,
                checklist=msgspec.json.encode(items).decode(),
                findings=findings,
                fix_by=None if passed else fix_by,
                status=(InspectionStatus.passed if passed else InspectionStatus.fix_required).value,
                inspector_id=user.account_id,
            )
        ).returning(Inspection.id)
        await append_event(
            Actor.account(user.account_id),
            "notice_board.inspected",
            "notice_board",
            village_id,
            {"passed": passed, "failed_items": [k for k, v in items.items() if not v]},
        )
        await CHANGED.changed(village_id)
    return await get_inspection(user, rows[0]["id"])


async def get_inspection(user: CurrentUser, inspection_id: int) -> InspectionOut:
    row = await Inspection.select().where(Inspection.id == inspection_id).first()
    if row is None:
        raise InspectionNotFound(inspection_id=inspection_id)
    await require_village(user, row["village"])
    return _inspection_out(row)


async def reinspect(
    user: CurrentUser, inspection_id: int, *, on: dt.date, fixed: bool, note: str
) -> InspectionOut:
    """The re-inspection after the fix-by date: fixed, or still open with a note."""
    current = await get_inspection(user, inspection_id)
    await require_township_writer(user, current.village_id)
    if current.status is not InspectionStatus.fix_required or on < current.inspected_on:
        raise BadInspection()
    async with db.write_transaction():
        await Inspection.update(
            {
                Inspection.reinspected_on: on,
                Inspection.reinspection_note: note.strip()[:MAX_TEXT],
                Inspection.status: (
                    InspectionStatus.fixed if fixed else InspectionStatus.fix_required
                ).value,
            }
        ).where(Inspection.id == inspection_id)
        await append_event(
            Actor.account(user.account_id),
            "notice_board.reinspected",
            "notice_board",
            current.village_id,
            {"fixed": fixed},
        )
        await CHANGED.changed(current.village_id)
    return await get_inspection(user, inspection_id)


async def overdue_fixes(user: CurrentUser, today: dt.date | None = None) -> list[InspectionOut]:
    """Inspections whose fix-by date passed without a re-inspection finding them fixed."""
    from tipline.orgunits.services import visible_unit_ids

    today = today or today_local()
    visible = await visible_unit_ids(user)
    rows = await Inspection.select().where(
        (Inspection.status == InspectionStatus.fix_required.value) & (Inspection.fix_by < today)
    )
    return [_inspection_out(row) for row in rows if row["village"] in visible]

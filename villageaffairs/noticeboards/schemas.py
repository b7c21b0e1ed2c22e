"""What the notice board page's forms post (multipart: a photo may come with them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from villageaffairs.noticeboards.exceptions import BadField
from villageaffairs.noticeboards.tables import Category


class StepForm(msgspec.Struct):
    """Every field of the page's four forms (board, disclosure, inspect, reinspect); each
    step reads its own. Dates stay text so a refused one is shown back as typed."""

    location: str = ""
    standardised: str = ""
    finance_monthly: bool = False
    photo: UploadFile | None = None
    category: Category | None = None
    period: str = ""
    title: str = ""
    posted_on: str = ""
    sc_signed_by: str = ""
    inspected_on: str = ""
    check_fixed_location: bool = False
    check_standard_layout: bool = False
    check_content_current: bool = False
    check_sc_signed: bool = False
    check_finance_detailed: bool = False
    check_complaint_contact: bool = False
    findings: str = ""
    fix_by: str = ""
    inspection_id: str = ""
    reinspected_on: str = ""
    fixed: str = ""
    note: str = ""

    def day(self, field: str, required: bool = True) -> dt.date | None:
        text = str(getattr(self, field)).strip()
        if not text and not required:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise BadField(field=field) from None

    def checklist(self, keys: tuple[str, ...]) -> dict[str, bool]:
        return {key: bool(getattr(self, f"check_{key}")) for key in keys}


# The marker of a multipart form (Litestar's URLEncodedBody has no multipart twin).
StepBody = Annotated[StepForm, Body(media_type=RequestEncodingType.MULTI_PART)]

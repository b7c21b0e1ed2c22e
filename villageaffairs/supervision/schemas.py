"""Supervisory committees as pages, the API and the public page see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.supervision.tables import Forum, ScPost


class MemberIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    person_id: int
    post: ScPost
    accounting_knowledge: bool = False
    management_knowledge: bool = False


class CommitteeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    elected_on: dt.date
    forum: Forum
    members: list[MemberIn]
    reason: str = ""  # required when it replaces an accepted record (a new version)


class MemberOut(msgspec.Struct, frozen=True):
    person_id: int
    name: str
    post: ScPost
    accounting_knowledge: bool
    management_knowledge: bool


class CommitteeOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    elected_on: dt.date
    forum: Forum
    term_start: dt.date
    term_end: dt.date
    recorded_at: dt.datetime
    version_reason: str
    members: list[MemberOut]


class WorkReportIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: str
    submitted_on: dt.date
    to_discipline_commission: bool = True
    to_civil_affairs: bool = True
    summary: str = ""


class WorkReportOut(msgspec.Struct, frozen=True):
    id: int
    period: str
    due_on: dt.date
    submitted_on: dt.date
    late: bool
    to_discipline_commission: bool
    to_civil_affairs: bool
    summary: str


class PeriodDue(msgspec.Struct, frozen=True):
    """A report period with its due date and whether (and when) it was reported."""

    period: str
    due_on: dt.date
    submitted_on: dt.date | None
    overdue_days: int  # today - due, when not submitted and past due; else 0


class OverdueRow(msgspec.Struct, frozen=True):
    village_id: int
    village_name: str
    township_name: str
    period: str
    due_on: dt.date
    overdue_days: int

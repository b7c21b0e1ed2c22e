"""Supervisory committees as pages, the API and the public page see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.supervision.exceptions import BadField
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


MAX_ROWS = 6  # member rows on the page's form


class CommitteeForm(msgspec.Struct, frozen=True):
    """The committee as the page's form posts it: one row per member (``person_N``,
    ``post_N``, ``accounting_N``, ``management_N``, N from 1 to :data:`MAX_ROWS`); a row
    without a person is left out."""

    elected_on: dt.date
    forum: Forum
    reason: str = ""
    person_1: str = ""
    post_1: str = ""
    accounting_1: bool = False
    management_1: bool = False
    person_2: str = ""
    post_2: str = ""
    accounting_2: bool = False
    management_2: bool = False
    person_3: str = ""
    post_3: str = ""
    accounting_3: bool = False
    management_3: bool = False
    person_4: str = ""
    post_4: str = ""
    accounting_4: bool = False
    management_4: bool = False
    person_5: str = ""
    post_5: str = ""
    accounting_5: bool = False
    management_5: bool = False
    person_6: str = ""
    post_6: str = ""
    accounting_6: bool = False
    management_6: bool = False

    def to_input(self) -> CommitteeIn:
        members = []
        for row in range(1, MAX_ROWS + 1):
            person = getattr(self, f"person_{row}").strip()
            if not person:
                continue
            post = getattr(self, f"post_{row}")
            if not person.isdigit():
                raise BadField(field=f"person_{row}")
            if post not in tuple(ScPost):
                raise BadField(field=f"post_{row}")
            members.append(
                MemberIn(
                    person_id=int(person),
                    post=ScPost(post),
                    accounting_knowledge=getattr(self, f"accounting_{row}"),
                    management_knowledge=getattr(self, f"management_{row}"),
                )
            )
        return CommitteeIn(
            elected_on=self.elected_on, forum=self.forum, members=members, reason=self.reason
        )


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


class WorkReportForm(msgspec.Struct, frozen=True):
    """A work report as the page's form posts it (an unticked box is not sent)."""

    period: str
    submitted_on: dt.date
    to_discipline_commission: bool = False
    to_civil_affairs: bool = False
    summary: str = ""

    def to_input(self) -> WorkReportIn:
        return WorkReportIn(**msgspec.structs.asdict(self))


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

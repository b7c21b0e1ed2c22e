"""The registers' hub and the county overview: per township, how far each process is."""

from __future__ import annotations

import datetime as dt

import msgspec

from tipline.auth import CurrentUser
from villageaffairs.appraisals.tables import AppraisalRound, RoundStatus
from villageaffairs.committees import services as committees
from villageaffairs.elections.tables import ByElection, ByElectionStatus
from villageaffairs.reports import services as reports
from villageaffairs.reports.tables import ReportStatus
from villageaffairs.reviews.tables import LookbackReview, ReviewStatus


class TownshipLine(msgspec.Struct):
    township_id: int
    township: str
    villages: int = 0
    committees: int = 0
    composition_problems: int = 0
    open_vacancies: int = 0
    by_elections_under_way: int = 0
    by_elections_filed: int = 0
    by_elections_accepted: int = 0
    lookbacks_started: int = 0
    lookbacks_signed_off: int = 0
    lookbacks_accepted: int = 0
    appraisals_recorded: int = 0
    appraisals_published: int = 0
    appraisals_accepted: int = 0


async def overview(user: CurrentUser, on: dt.date | None = None) -> list[TownshipLine]:
    """One line per township (the viewer's own for township staff)."""
    rows = await committees.register_rows(user, on=on)
    lines: dict[int, TownshipLine] = {}
    township_of: dict[int, int] = {}
    for row in rows:
        line = lines.setdefault(row.township_id, TownshipLine(row.township_id, row.township))
        township_of[row.village_id] = row.township_id
        line.villages += 1
        line.committees += 1 if row.committee_id else 0
        line.composition_problems += 1 if row.problems else 0
        line.open_vacancies += row.open_vacancies
    ids = list(township_of)
    if not ids:
        return []
    for b in await ByElection.select(ByElection.village, ByElection.status).where(
        ByElection.village.is_in(ids)
    ):
        line = lines[township_of[b["village"]]]
        if b["status"] == ByElectionStatus.filed.value:
            line.by_elections_filed += 1
        elif b["status"] != ByElectionStatus.failed.value:
            line.by_elections_under_way += 1
    for r in await LookbackReview.select(LookbackReview.village, LookbackReview.status).where(
        LookbackReview.village.is_in(ids)
    ):
        line = lines[township_of[r["village"]]]
        line.lookbacks_started += 1
        line.lookbacks_signed_off += 1 if r["status"] == ReviewStatus.signed_off.value else 0
    for a in await AppraisalRound.select(AppraisalRound.village, AppraisalRound.status).where(
        AppraisalRound.village.is_in(ids)
    ):
        line = lines[township_of[a["village"]]]
        line.appraisals_recorded += 1
        line.appraisals_published += 1 if a["status"] == RoundStatus.published.value else 0
    for kind, field in (
        ("by_election", "by_elections_accepted"),
        ("lookback", "lookbacks_accepted"),
        ("appraisal", "appraisals_accepted"),
    ):
        for village_id, report in (await reports.latest_reports(kind, ids)).items():
            if report.status is ReportStatus.accepted or report.supersedes_id is not None:
                line = lines[township_of[village_id]]
                setattr(line, field, getattr(line, field) + 1)
    return sorted(lines.values(), key=lambda line: line.township)

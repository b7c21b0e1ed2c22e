"""What the by-election workflow refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class ByElectionNotFound(NotFound):
    message_key = "elections.error.not_found"


class CandidateNotFound(NotFound):
    message_key = "elections.error.candidate_not_found"


class WrongStage(Conflict):
    """The step belongs to another stage of the by-election."""

    message_key = "elections.error.wrong_stage"


class NotTownshipStaff(Forbidden):
    message_key = "elections.error.township_only"


class NotCountyStaff(Forbidden):
    message_key = "elections.error.county_only"


class ElectionsInvalid(Invalid):
    """The root of the by-election workflow's refusals of what was typed."""


class BadField(ElectionsInvalid):
    """A form field is missing or not of its kind (a number, a date): ``field=`` names it."""

    message_key = "villageaffairs.error.field"


class NoVacancies(ElectionsInvalid):
    message_key = "elections.error.no_vacancies"


class VacancyNotAvailable(Conflict):
    message_key = "elections.error.vacancy_not_available"


class BadCandidate(ElectionsInvalid):
    message_key = "elections.error.bad_candidate"


class BadCheck(ElectionsInvalid):
    message_key = "elections.error.bad_check"


class BadTally(ElectionsInvalid):
    message_key = "elections.error.bad_tally"


class NotFiled(ElectionsInvalid):
    message_key = "elections.error.not_filed"

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


class NoVacancies(Invalid):
    message_key = "elections.error.no_vacancies"


class VacancyNotAvailable(Conflict):
    message_key = "elections.error.vacancy_not_available"


class BadCandidate(Invalid):
    message_key = "elections.error.bad_candidate"


class BadCheck(Invalid):
    message_key = "elections.error.bad_check"


class BadTally(Invalid):
    message_key = "elections.error.bad_tally"


class NotFiled(Invalid):
    message_key = "elections.error.not_filed"

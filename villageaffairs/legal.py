"""Legal bases as data, rule failures, and the province profile.

Every rule function of a process (``<process>/rules.py``) returns a list of
:class:`RuleFailure`; each failure names its message key and its legal basis
(law, version, article) so that the message cites the article in the user's
language. Article numbers are those of the 2010 Organic Law of Villagers'
Committees as amended on 2018-12-29 (the 2025 amendment, in force 2026-01-01,
renumbers them: change the data in ``LAWS``/the rule modules, not the messages).
Province-specific thresholds live in ``provinces.json`` (data), chosen by the
``province`` setting (``TIPLINE_PROVINCE``, default Hunan) through :func:`configure`,
which the app and the command call at start: a province without a profile is refused
there, never served another province's thresholds.
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec

from tipline.errors import Invalid
from tipline.settings import Settings, SettingsError
from tipline.web.i18n import translate


class LegalBasis(msgspec.Struct, frozen=True):
    """Where a rule comes from: ``law`` is a key of the ``villageaffairs.law.*`` messages."""

    law: str
    version: str
    article: str

    def render(self, locale: str) -> str:
        """The citation in ``locale``. ``law`` is a short name of the shared catalogue
        (``villageaffairs.law.<law>``) or, when it contains a dot, a full message key of
        the package that cites it (e.g. ``supervision.law.guidance_2017``)."""
        key = self.law if "." in self.law else f"villageaffairs.law.{self.law}"
        return translate(locale, key, version=self.version, article=self.article)


# The Organic Law of Villagers' Committees (村民委员会组织法), 2010 revision as amended 2018.
VCOL_2018 = "vcol"
VCOL_VERSION = "2018"


def vcol(article: str) -> LegalBasis:
    return LegalBasis(VCOL_2018, VCOL_VERSION, article)


def policy(name: str) -> LegalBasis:
    """A policy document rather than a statute (``villageaffairs.law.<name>``)."""
    return LegalBasis(name, "", "")


class RuleFailure(msgspec.Struct, frozen=True):
    rule: str
    key: str
    basis: LegalBasis
    values: dict[str, Any] = {}

    def message(self, locale: str) -> str:
        return translate(locale, self.key, **self.values, basis=self.basis.render(locale))


class FailureOut(msgspec.Struct, frozen=True):
    rule: str
    message: str
    law: str
    version: str
    article: str


def failures_out(failures: list[RuleFailure], locale: str) -> list[FailureOut]:
    return [
        FailureOut(
            rule=f.rule,
            message=f.message(locale),
            law=f.basis.law,
            version=f.basis.version,
            article=f.basis.article,
        )
        for f in failures
    ]


class RulesViolated(Invalid):
    """One or more legal checks failed; ``failures`` says which, each citing its article."""

    status_code = 422
    message_key = "villageaffairs.rules.violated"

    def __init__(self, failures: list[RuleFailure]) -> None:
        super().__init__(count=len(failures))
        self.failures = failures

    def messages(self, locale: str) -> list[str]:
        return [f.message(locale) for f in self.failures]


def raise_if(failures: list[RuleFailure]) -> None:
    if failures:
        raise RulesViolated(failures)


# --- province profiles ---------------------------------------------------------------

PROVINCES_FILE = Path(__file__).resolve().parent / "provinces.json"
DEFAULT_PROVINCE = "hunan"


class ProvinceProfile(msgspec.Struct, frozen=True):
    """Thresholds a province's implementing rules set.

    ``unfit_share_*``: the share of participants that must say "not competent" for
    that verdict, as ``[numerator, denominator]``; ``unfit_strict`` says whether the
    share must be exceeded (``> share``) or only reached (``>= share``).
    """

    code: str
    name: str
    unfit_share_meeting: list[int]
    unfit_share_assembly: list[int]
    unfit_strict_meeting: bool
    unfit_strict_assembly: bool
    spouses_and_lineal_barred: bool
    source: str

    def unfit_share(self, forum: str) -> tuple[Fraction, bool]:
        if forum == "representatives_assembly":
            n, d = self.unfit_share_assembly
            return Fraction(n, d), self.unfit_strict_assembly
        n, d = self.unfit_share_meeting
        return Fraction(n, d), self.unfit_strict_meeting


@functools.cache
def _profiles() -> dict[str, ProvinceProfile]:
    data = json.loads(PROVINCES_FILE.read_text(encoding="utf-8"))
    return {
        code: msgspec.convert({"code": code, **body}, ProvinceProfile)
        for code, body in data.items()
    }


_configured = DEFAULT_PROVINCE


def configure(settings: Settings) -> None:
    """Apply ``settings.province``'s thresholds from now on; refuse a province we have no
    profile for (its thresholds are law, and another province's would be wrong)."""
    global _configured
    _configured = province_profile(settings.province).code


def province_profile(code: str | None = None) -> ProvinceProfile:
    """The profile of ``code``, or of the configured province (Hunan by default)."""
    wanted = (code or _configured).lower()
    profiles = _profiles()
    if wanted not in profiles:
        raise SettingsError(
            f"TIPLINE_PROVINCE={wanted!r}: no village-affairs profile for this province "
            f"(known: {', '.join(sorted(profiles))})"
        )
    return profiles[wanted]

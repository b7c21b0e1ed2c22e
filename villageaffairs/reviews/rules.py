"""Rules of the look-back review (回头看), one function per rule.

Policy basis: the county's 2020 work plan under the anti-gang campaign and the 2019
Guiding Opinions on Rural Governance: every sitting committee member, village
representative, group leader and hired village staff member is re-checked for
criminal records, village-bully conduct, gang ties and discipline violations; a
person found unfit leaves the post (for committee members the office ends, Organic
Law (2018), Art. 18/19, and the seat is refilled by by-election).
"""

from __future__ import annotations

from villageaffairs.legal import RuleFailure, policy

BASIS = "vetting_2019"


def issue_has_action(name: str, outcome: str, issue: str, action: str) -> list[RuleFailure]:
    """An item with an issue found names the issue and the action taken."""
    if outcome != "issue_found" or (issue and action):
        return []
    return [
        RuleFailure(
            "issue_has_action", "reviews.rules.issue_has_action", policy(BASIS), {"name": name}
        )
    ]


def referral_names_ledger_no(name: str, action: str, ledger_no: str) -> list[RuleFailure]:
    """A referral to the anti-gang tip line is traceable: it names the tip's ledger
    number (format 2020-000123) when there is one; other referrals need a document ref."""
    if action != "referred" or ledger_no:
        return []
    return [
        RuleFailure(
            "referral_names_ledger_no",
            "reviews.rules.referral_names_ledger_no",
            policy(BASIS),
            {"name": name},
        )
    ]


def everyone_handled(pending_names: list[str]) -> list[RuleFailure]:
    """A village is done only when every person in scope is cleared or handled."""
    return [
        RuleFailure(
            "everyone_handled", "reviews.rules.everyone_handled", policy(BASIS), {"name": name}
        )
        for name in pending_names
    ]

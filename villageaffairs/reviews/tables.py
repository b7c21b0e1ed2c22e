"""Look-back reviews (回头看): every person in scope of a village gets a review item.

Scope: sitting committee members, village representatives, group leaders and hired
staff (and the accountant/bookkeeper). An item is ``no_issue`` or ``issue_found``
with the issue and the action taken; a removal ends the membership (opening a
vacancy) or the post.
"""

from enum import StrEnum

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit
from villageaffairs.people.tables import Person


class ReviewStatus(StrEnum):
    open = "open"
    signed_off = "signed_off"


class Outcome(StrEnum):
    pending = "pending"
    no_issue = "no_issue"
    issue_found = "issue_found"


class Issue(StrEnum):
    criminal_record = "criminal_record"
    village_bully = "village_bully"
    gang = "gang"
    discipline = "discipline"


class Action(StrEnum):
    removed = "removed"
    resigned = "resigned"
    under_investigation = "under_investigation"
    referred = "referred"


class LookbackReview(Table, tablename="va_lookback_review"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    campaign = Varchar(length=40, default="2020")
    status = Varchar(length=16, default=ReviewStatus.open.value)
    started_on = Date()
    signed_off_on = Date(null=True, default=None)
    signed_off_by = Integer(null=True, default=None)
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class LookbackItem(Table, tablename="va_lookback_item"):
    id: Serial

    review: ForeignKey[LookbackReview] = ForeignKey(
        LookbackReview, index=True, on_delete=OnDelete.restrict
    )
    person: ForeignKey[Person] = ForeignKey(Person, on_delete=OnDelete.restrict)
    role = Varchar(length=32)
    membership_id = Integer(null=True, default=None)
    post_id = Integer(null=True, default=None)
    outcome = Varchar(length=16, default=Outcome.pending.value)
    issue = Varchar(length=24, default="")
    action = Varchar(length=24, default="")
    referral_ledger_no = Varchar(length=16, default="")
    document_ref = Varchar(length=100, default="")
    decided_on = Date(null=True, default=None)
    note = Text(default="")

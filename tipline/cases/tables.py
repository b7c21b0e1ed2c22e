"""Tables of case handling: what an officer records about a tip beside its sealed content.

The tip itself (``tipline.intake.tables.Tip``) holds the sealed content and the
lifecycle status; these tables hold the metadata an officer writes on purpose in
plaintext (category, township, a short summary) and the two-person approvals. Nothing
here is ever deleted: a merged or voided tip keeps every row.
"""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.intake.tables import Tip
from tipline.orgunits.tables import OrgUnit


class CaseFile(Table, tablename="case_file"):
    """The officer's registration of one tip (登记): one row per tip, made at registration.

    ``summary`` is written by the officer as plaintext metadata on purpose (it shows in
    the ledger and the Excel export), so it must not repeat the tipster's identity.
    """

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, unique=True, index=True)
    category = Varchar(length=32)
    township: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, null=True, default=None, index=True)
    summary = Text(default="")
    assigned_officer_id = Integer(null=True, default=None, index=True)
    merged_into = Varchar(length=16, null=True, default=None)
    registered_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseApproval(Table, tablename="case_approval"):
    """A request that needs a second designated officer (双人审批).

    ``action`` is a :class:`tipline.cases.lifecycle.ApprovalAction`; ``status`` is
    ``pending``, ``approved``, ``refused``, ``used`` (a one-time right such as opening
    a real-name identity, spent) or ``withdrawn``.
    """

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    action = Varchar(length=32)
    status = Varchar(length=16, default="pending", index=True)
    requested_by = Integer()
    requested_at = Timestamptz(default=TimestamptzNow())
    reason = Text()
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(default="")

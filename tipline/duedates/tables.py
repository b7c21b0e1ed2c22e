"""Deadline rules and the due dates stored on each case.

A due date is computed once, when its triggering event happens, and stored
(docs/ARCHITECTURE.md principle 5); changing a rule later changes the due dates of later events
only, never rewrites a stored one.
"""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.intake.tables import Tip


class DeadlineRule(Table, tablename="deadline_rule"):
    """One rule: ``kind`` must be done within ``working_days`` of ``trigger``.

    ``trigger`` is received, transferred or closed; ``satisfied_by`` lists the custody
    events (comma-separated, e.g. ``tip.transferred``) that meet it;
    ``real_name_only`` limits it to tips whose tipster gave their name.
    """

    id: Serial

    kind = Varchar(length=32, unique=True)
    trigger = Varchar(length=16)
    working_days = Integer()
    satisfied_by = Varchar(length=200)
    real_name_only = Boolean(default=False)
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseDeadline(Table, tablename="case_deadline"):
    """One deadline of one tip.

    ``warned_percent`` is the highest warning threshold (50/75/90/100) already sent;
    ``escalated_at`` is set at breach, and the escalation stays open until
    ``resolved_at`` (the deadline met, or the inspector with a reason).
    ``rule_working_days`` and ``satisfied_by`` are the rule as it was when the deadline
    started. ``outcome`` is ``open``, ``met`` or ``moot`` (the tip was closed, merged or voided
    before the step was needed).
    """

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    kind = Varchar(length=32)
    rule_working_days = Integer()
    satisfied_by = Varchar(length=200)
    started_at = Timestamptz()
    start_day = Date()
    due_on = Date(index=True)
    outcome = Varchar(length=8, default="open", index=True)
    met_at = Timestamptz(null=True, default=None)
    met_by_event = Integer(null=True, default=None)
    warned_percent = Integer(default=0)
    escalated_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = Integer(null=True, default=None)
    resolution = Varchar(length=16, null=True, default=None)
    resolution_reason = Text(default="")

"""Tables of oversight: the last ledger verification and requests to export content.

A content export (tips decrypted into one file) is the riskiest copy the system can
make (检举控告工作规则 Art. 15: 不得复制、摘抄检举控告内容 except as the rules allow), so
it needs a second designated officer's approval and is spent by one use. Nothing here
is ever deleted; every step is also a custody event.
"""

from piccolo.columns import Boolean, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class LedgerVerification(Table, tablename="ledger_verification"):
    """One run of ``verify_chain`` (by the scheduler or an inspector's button), kept so
    the inspector's page shows the last result without recomputing the whole chain."""

    id: Serial

    ran_at = Timestamptz(default=TimestamptzNow())
    trigger = Varchar(length=16)
    account_id = Integer(null=True, default=None)
    ok = Boolean()
    events = Integer()
    first_bad_seq = Integer(null=True, default=None)
    reason = Text(default="")
    checkpoints = Integer(default=0)
    root = Varchar(length=64, default="")


class ContentExportRequest(Table, tablename="content_export_request"):
    """A request to export the decrypted content of some tips (双人审批).

    ``ledger_nos`` is a JSON list; ``status`` is ``pending``, ``approved``, ``refused``
    or ``used`` (the approval spent by the one export it allowed). ``action`` is
    ``ApprovalAction.export_content`` so reports can count it with the case approvals.
    """

    id: Serial

    action = Varchar(length=32, default="export_content")
    status = Varchar(length=16, default="pending", index=True)
    ledger_nos = Text()
    reason = Text()
    requested_by = Integer(index=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(default="")
    used_at = Timestamptz(null=True, default=None)
    file_sha256 = Varchar(length=64, default="")

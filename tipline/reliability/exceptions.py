"""Refusals caused by the machine rather than the request."""

from __future__ import annotations

from tipline.errors import DomainError


class StorageFull(DomainError):
    """The disk (or the database's space) is full: the write was rolled back whole.

    A 503, never a receipt: a tipster told "received" must be able to rely on it
    (DESIGN: no tip lost), so a write that cannot be made durable is refused and the
    tipster asked to try again later, with nothing half-written left behind.
    """

    status_code = 503
    message_key = "reliability.error.storage_full"

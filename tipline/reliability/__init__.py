"""Staying correct when things fail: backups and escrow recovery.

The test-only fault switches (:mod:`tipline.faults`) and the refusal of a full disk
(:class:`tipline.errors.StorageFull`) are used by the database layer itself, so they
live in the base below every package; this package keeps their messages.
"""

"""Staying correct when things fail: test-only fault switches, a full disk, backups and
escrow recovery."""

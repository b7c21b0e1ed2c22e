"""The chain of custody: one append-only, hash-chained ledger of events."""

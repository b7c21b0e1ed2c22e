"""The officer side of the tip ledger: list tips, open one for this session, reply."""

"""The discipline inspector's oversight, the ledger exports and the statistics."""

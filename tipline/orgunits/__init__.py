"""The county -> township -> village hierarchy every account and record belongs to."""

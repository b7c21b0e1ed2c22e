"""Working days: statutory holidays, make-up working days and the county's notices."""

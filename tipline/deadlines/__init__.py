"""Working days (Chinese statutory holidays), due dates and the scheduler that sweeps them."""

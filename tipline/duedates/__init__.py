"""Deadlines of cases as data: rule sets, due dates stored on the case, the sweep, escalations."""

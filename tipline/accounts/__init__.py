"""Accounts of officers and staff, their roles, passwords, TOTP and sessions."""

"""Accounts: patients and staff, sign-up and login, login sessions, passwords, the care team.
Tables and state verbs: accounts, care, two_factor.
May use: nothing."""

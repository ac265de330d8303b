"""Accounts: patients and staff, sign-up and login, login sessions, passwords, the care team.
Request and response schemas: accounts.
May use: nothing."""

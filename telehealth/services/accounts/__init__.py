"""Accounts: patients and staff, sign-up and login, login sessions, passwords, the care team.
The rules, no HTTP: accounts, care_team, login_sessions, passwords, staff, two_factor.
May call: platform, screening (claiming an anonymous screening at sign-up)."""

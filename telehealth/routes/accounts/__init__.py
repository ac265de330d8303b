"""Accounts: patients and staff, sign-up and login, login sessions, passwords, the care team.
HTTP only, one service call per request: admin, auth, me, patients, and the portal's pages.
May call: accounts, platform (audit, the on-call rota), screening (the screening a sign-up claims)."""

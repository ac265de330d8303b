"""Home care: at-home sessions, their gates, check-ins by text, patients' replies read, inbound texts.
HTTP only, one service call per request: home_sessions.
May call: home_care, screening (the crisis resources)."""

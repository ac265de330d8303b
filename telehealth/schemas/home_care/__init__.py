"""Home care: at-home sessions, their gates, check-ins by text, patients' replies read, inbound texts.
Request and response schemas: home_sessions.
May use: screening (the crisis resources)."""

"""Home care: at-home sessions, their gates, check-ins by text, patients' replies read, inbound texts.
Tables and state verbs: home_sessions.
May use: accounts."""

"""Home care: at-home sessions, their gates, check-ins by text, patients' replies read, inbound texts.
The rules, no HTTP: check_in_messages, home_sessions, inbound, reply_parsing, session_gates, side_effects, treatment_oversight.
May call: platform, accounts, screening, scheduling, pharmacy, messaging."""

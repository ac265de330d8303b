"""Tests of the home_care domain, in every layer: check_in_messages, home_sessions, reply_parsing, session_gates, sms_inbound."""

"""Messaging: the SMS outbox, SMS consent, what a text may say, reminders, notices and pages by text.
HTTP only, one service call per request: messaging; pages: pages (the texts page).
May call: messaging, home_care (inbound texts)."""

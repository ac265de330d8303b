"""Messaging: the SMS outbox, SMS consent, what a text may say, reminders, notices and pages by text.
Request and response schemas: messaging.
May use: nothing."""

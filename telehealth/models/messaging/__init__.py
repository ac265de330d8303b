"""Messaging: the SMS outbox, SMS consent, what a text may say, reminders, notices and pages by text.
Tables and state verbs: mail, messaging.
May use: accounts."""

"""Messaging: the SMS outbox, SMS consent, what a text may say, reminders, notices and pages by text.
The rules, no HTTP: message_content, messages_admin, notifications, outbox, sms_consent.
May call: platform."""

"""Tests of the messaging domain, in every layer: mail, message_content, notifications, outbox."""

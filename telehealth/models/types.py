"""Column types shared by every model: UTC timestamps and encrypted values."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from telehealth import crypto
from telehealth.clock import UTC


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on PostgreSQL (timestamptz) and SQLite (text) alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[Any]):
    """A value encrypted with the field keys; the database only ever sees ciphertext (TEXT).
    Subclasses say how the value becomes text."""

    impl = Text
    cache_ok = True

    def to_text(self, value) -> str:
        return value

    def from_text(self, text: str):
        return text

    def process_bind_param(self, value, dialect):
        return None if value is None else crypto.encrypt(self.to_text(value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.from_text(crypto.decrypt(value))


class EncryptedJSON(EncryptedText):
    """A JSON document (replace it whole to change it: in-place edits are not tracked)."""

    cache_ok = True

    def to_text(self, value) -> str:
        return json.dumps(value, sort_keys=True)

    def from_text(self, text: str):
        return json.loads(text)


class EncryptedDate(EncryptedText):
    cache_ok = True

    def to_text(self, value: date) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> date:
        return date.fromisoformat(text)

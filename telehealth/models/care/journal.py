"""The integration journal: what a patient writes after their sessions (PRODUCT.md, "Integration").

An entry belongs to its patient alone: private unless the patient shares it, entry by entry, with
their coach (`shared_at` set; unsharing clears it). The text is encrypted at rest. An entry may name
the at-home session it is about.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.types import EncryptedText, UTCDateTime


class JournalEntry(db.Model):
    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_patient_created", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # the at-home session the entry is about (optional)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("home_sessions.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(EncryptedText)
    # set while the patient shares the entry with their coach; None: private
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def shared(self) -> bool:
        return self.shared_at is not None

    def revise(self, at: datetime, *, body: str | None = None, session_id: int | None = None,
               clear_session: bool = False) -> list[str]:
        """Change what is given; the names of the fields changed."""
        changed = []
        if body is not None and body != self.body:
            self.body = body
            changed.append("body")
        if clear_session and self.session_id is not None:
            self.session_id = None
            changed.append("session_id")
        elif session_id is not None and session_id != self.session_id:
            self.session_id = session_id
            changed.append("session_id")
        if changed:
            self.updated_at = at
        return changed

    def share(self, at: datetime) -> bool:
        """Share with the coach; False when it already was."""
        if self.shared_at is not None:
            return False
        self.shared_at = at
        return True

    def unshare(self) -> bool:
        """Make it private again; False when it already was."""
        if self.shared_at is None:
            return False
        self.shared_at = None
        return True

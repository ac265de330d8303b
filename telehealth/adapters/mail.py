"""Outbound email, behind one `send_mail` call.

Backends (MAIL_BACKEND): `outbox` keeps each message in the `outbox_mail` table, where a person
reads it with `flask mail-outbox` (development, demo, tests); `smtp` hands it to an SMTP server
once the transaction that asked for it has committed, so a rolled-back change sends nothing and an
SMTP outage never fails the change itself (it is logged; the durable outbox of the SMS issue will
retry it).
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from telehealth.extensions import db
from telehealth.models.messaging.mail import OutboxMail


log = logging.getLogger(__name__)
_PENDING = "telehealth.pending_mail"


def send_mail(to: str, subject: str, body: str, *, kind: str) -> None:
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "outbox":
        db.session.add(OutboxMail(to_address=to, subject=subject, body=body, kind=kind))
    elif backend == "smtp":
        session = db.session()
        session.info.setdefault(_PENDING, []).append((current_app._get_current_object(), to, subject, body, kind))
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    for app, to, subject, body, kind in session.info.pop(_PENDING, []):
        try:
            _send_smtp(app.config, to, subject, body)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail not delivered", extra={"kind": kind, "exception": type(exc).__name__})


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _send_smtp(cfg, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(message)

"""Outbound email, behind one `send_mail` call.

Backends (MAIL_BACKEND): `outbox` keeps each message in the `outbox_mail` table, where a person
reads it with `flask mail-outbox` (development, demo, tests); `smtp` hands it to an SMTP server.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from telehealth.extensions import db
from telehealth.models.mail import OutboxMail


def send_mail(to: str, subject: str, body: str, *, kind: str) -> None:
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "outbox":
        db.session.add(OutboxMail(to_address=to, subject=subject, body=body, kind=kind))
    elif backend == "smtp":
        _send_smtp(to, subject, body)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


def _send_smtp(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
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

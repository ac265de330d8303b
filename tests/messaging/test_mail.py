"""Mail delivery: the SMTP backend speaks SMTP to a real (local) server."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import make_test_app


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_password_reset_goes_out_by_smtp(database_url, create_user, smtp_server):
    inbox, port = smtp_server
    user = create_user("patient")
    app = make_test_app(database_url, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                        MAIL_FROM="care@clinic.example")
    with app.app_context():
        r = app.test_client().post("/api/v1/auth/password-reset", json={"email": user.email})
    assert r.status_code == 202
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == [user.email] and envelope.mail_from == "care@clinic.example"
    body = envelope.content.decode()
    assert "Subject: Reset your password" in body and "/reset-password?token=" in body


def test_an_smtp_outage_does_not_fail_the_change_that_sends_mail(database_url, create_user, db):
    import socket as _socket

    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens here once the socket closes
    user = create_user("patient")
    app = make_test_app(database_url, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port)
    with app.app_context():
        r = app.test_client().post("/api/v1/auth/password-reset", json={"email": user.email})
    assert r.status_code == 202

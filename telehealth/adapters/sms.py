"""Text messages, behind one adapter: `send(to, body) -> sid` and `find_sent(to, body, since)`.

Backends (SMS_BACKEND):
- `twilio`: the Twilio SDK (`twilio.rest.Client`) with an HTTP client that sends to TWILIO_API_BASE
  (Twilio itself by default; scripts/twilio_server.py in tests) and gives up after
  TWILIO_TIMEOUT_SECONDS. The SDK's own request log is silenced: its query lines carry numbers.
- `console`: for `make run`; logs one PHI-free line and answers a made-up SID. What was "sent" is
  read from the outbox table (`flask sms-outbox`, `GET /api/v1/admin/sms-outbox`).

Errors: `SmsTransient` (5xx, 429, timeouts, connection errors: try again later; `maybe_sent` says
whether Twilio may have taken the message all the same) and `SmsPermanent` (any other 4xx, e.g.
21211 invalid number, 21610 the number replied STOP to Twilio). Neither carries a body or a number.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)
TWILIO_BASE = "https://api.twilio.com"
PAGE_SIZE = 1000  # the most Twilio gives per page


class SmsError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:150]


class SmsTransient(SmsError):
    def __init__(self, reason: str, *, maybe_sent: bool):
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class SmsPermanent(SmsError):
    pass


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str: ...

    def find_sent(self, to: str, body: str, since: datetime, exclude: Collection[str] = ()) -> str | None: ...


class ConsoleBackend:
    def send(self, to: str, body: str) -> str:
        sid = "SMconsole" + secrets.token_hex(12)
        log.info("sms sent to console", extra={"sid": sid, "length": len(body)})
        return sid

    def find_sent(self, to: str, body: str, since: datetime, exclude: Collection[str] = ()) -> str | None:
        return None  # the console keeps nothing; it never fails, so nothing is ever uncertain


class TwilioBackend:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base: str, timeout: float):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        quiet = logging.getLogger("telehealth.adapters.sms.twilio_http")
        quiet.setLevel(logging.WARNING)
        base = api_base.rstrip("/")

        class RebasedHttpClient(TwilioHttpClient):
            """Twilio's HTTP client, sent to `base` instead of https://api.twilio.com."""

            def request(self, method, url, *args, **kwargs):
                if url.startswith(TWILIO_BASE):
                    url = base + url[len(TWILIO_BASE):]
                return super().request(method, url, *args, **kwargs)

        self.client = Client(account_sid, auth_token,
                             http_client=RebasedHttpClient(timeout=timeout, logger=quiet))
        self.from_number = from_number

    def send(self, to: str, body: str) -> str:
        with _translated_errors():
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        return message.sid

    def find_sent(self, to: str, body: str, since: datetime, exclude: Collection[str] = ()) -> str | None:
        """The SID of a message to `to` with exactly `body` created after `since` (not one of
        `exclude`), looked for on every page of the number's list back to `since`, however many
        texts went to it meanwhile (the on-call phone gets many): `stream` follows Twilio's
        `next_page_uri`. Not narrowed by Twilio's `DateSent>` filter: it counts whole days of the
        date *sent*, which a message still queued at Twilio has not got. The list is newest first
        (by date sent, queued ones at the top), so paging stops at the first message sent before
        `since`; creation times are compared here, to the second."""
        cutoff = since - timedelta(seconds=2)  # Twilio's dates are whole seconds
        with _translated_errors():
            for message in self.client.messages.stream(to=to, page_size=PAGE_SIZE):
                if message.date_sent is not None and message.date_sent < cutoff:
                    break  # the rest were sent, so made, earlier still
                created = message.date_created
                if created is None or created < cutoff:
                    continue  # made before `since`, though sent (or still queued) after it
                if message.body == body and message.sid not in exclude and message.status not in ("failed",):
                    return message.sid
        return None


class _translated_errors:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if isinstance(exc, TwilioRestException):
            status = exc.status
            if status == 429:
                raise SmsTransient("rate limited (429)", maybe_sent=False) from None
            if status >= 500:
                raise SmsTransient(f"Twilio error {status}", maybe_sent=True) from None
            raise SmsPermanent(f"refused ({status}, Twilio code {exc.code})") from None
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            raise SmsTransient("connect timeout", maybe_sent=False) from None
        if isinstance(exc, requests.exceptions.Timeout):
            raise SmsTransient("timeout", maybe_sent=True) from None
        if isinstance(exc, requests.exceptions.ConnectionError):
            from urllib3.exceptions import NewConnectionError

            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, NewConnectionError) or isinstance(exc.args[0] if exc.args else None,
                                                                     NewConnectionError):
                raise SmsTransient("connection refused", maybe_sent=False) from None
            raise SmsTransient("connection lost", maybe_sent=True) from None
        if isinstance(exc, (TwilioException, requests.exceptions.RequestException, ValueError)):
            raise SmsTransient(f"unreadable answer ({type(exc).__name__})", maybe_sent=True) from None
        return False


def backend() -> SmsBackend:
    """The configured backend, made once per app (the Twilio client keeps its connections)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cfg = app.config
    key = tuple(cfg.get(name) for name in ("SMS_BACKEND", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                                           "TWILIO_FROM_NUMBER", "TWILIO_API_BASE", "TWILIO_TIMEOUT_SECONDS"))
    cached = app.extensions.get("telehealth.sms")
    if cached is not None and cached[0] == key:
        return cached[1]
    if cfg["SMS_BACKEND"] == "console":
        made: SmsBackend = ConsoleBackend()
    elif cfg["SMS_BACKEND"] == "twilio":
        made = TwilioBackend(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], cfg["TWILIO_FROM_NUMBER"],
                             cfg["TWILIO_API_BASE"], float(cfg["TWILIO_TIMEOUT_SECONDS"]))
    else:
        raise RuntimeError(f"unknown SMS_BACKEND {cfg['SMS_BACKEND']!r}")
    app.extensions["telehealth.sms"] = (key, made)
    return made


def send(to: str, body: str) -> str:
    return backend().send(to, body)


def find_sent(to: str, body: str, since: datetime, exclude: Collection[str] = ()) -> str | None:
    return backend().find_sent(to, body, since, exclude)

"""Structured JSON logs with a request ID on every line, and no PHI.

Access lines carry method, route pattern (not the raw path or query string, which may hold
identifiers), status, duration, request ID and user ID: never bodies, names, emails or answers.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("telehealth.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Libraries that log what we must not: Stripe its request bodies (emails, patient ids in metadata),
# Twilio its requests (phone numbers), SQLAlchemy its result rows, urllib3/requests/httpx the URLs
# they call, APScheduler each job with its arguments, werkzeug's dev server raw paths with query
# strings, fpdf/fontTools/PIL the text they lay out. They stay at WARNING whatever LOG_LEVEL is:
# LOG_LEVEL=DEBUG is for our own lines, which are written to hold no PHI.
QUIET_LIBRARIES = ("stripe", "twilio", "urllib3", "requests", "httpx", "httpcore", "charset_normalizer",
                   "sqlalchemy", "psycopg", "apscheduler", "werkzeug", "fpdf", "fontTools", "PIL",
                   "alembic.runtime.plugins")


def configure_logging(level: str) -> None:
    """One JSON handler on the root logger (added once per process) and the levels (applied on
    every call, so the last app made decides, as in tests that make a DEBUG app)."""
    root = logging.getLogger()
    if not any(getattr(h, "_telehealth", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"))
        handler.addFilter(_RequestIdFilter())
        handler._telehealth = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def current_request_id() -> str | None:
    return request_id_var.get()


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_id = rid
        g.request_started = time.perf_counter()
        request_id_var.set(rid)

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        user = g.get("_login_user")  # only if this request loaded it: logging must not cost a query
        access_log.info("request", extra={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 2),
            "user_id": getattr(user, "id", None),
        })
        return response

    @app.teardown_request
    def _clear(_exc):
        request_id_var.set(None)

"""The one error shape of the API, and the exceptions services raise to produce it.

Every 4xx and 5xx body is `{"error": {"code": ..., "message": ..., "fields": {...}}}`. Services raise
`ServiceError` subclasses (no HTTP in services beyond a status number); the handlers here turn them,
and every werkzeug HTTPException, into that shape. A 500 never carries a stack trace.
"""
from __future__ import annotations

import logging
import traceback

from flask import Flask, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from telehealth.crisis_lines import HELP_NOW

log = logging.getLogger(__name__)


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_error"


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Locked(ServiceError):
    status = 423
    code = "account_locked"


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers=None):
    response = jsonify(error_body(code, message, fields))
    response.status_code = status
    if headers:
        response.headers.extend(headers)
    return response


# Stable machine-readable codes for the HTTP errors werkzeug raises itself.
_HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 503: "unavailable",
}


_PAGE_TITLES = {
    400: "That did not work", 401: "Please sign in", 403: "Not available to you", 404: "Page not found",
    405: "That did not work", 409: "That cannot be done now", 413: "Too large", 422: "Please check your answers",
    423: "Account locked", 429: "Please wait a moment", 500: "Something went wrong", 503: "Temporarily unavailable",
}


def wants_page() -> bool:
    """A person in a browser gets a page in words; the API and its clients get the JSON shape."""
    path = request.path
    if path.startswith(("/api/", "/webhooks/")):
        return False
    if (request.blueprint or "").endswith("_pages") or request.blueprint == "landing":
        return True
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, code: str, message: str, headers=None):
    """The same refusal as the API's, as a page (see templates/errors/error.html)."""
    if status == 401 and code != "account_locked":
        return redirect(url_for("accounts_pages.login", next=request.path))
    if code == "csrf_failed":
        message = ("This form had expired or did not come from this site. Go back, reload the page and "
                   "send it again.")
    title = _PAGE_TITLES.get(status, "Something went wrong")
    response = app_response(render_template("errors/error.html", status=status, title=title, message=message,
                                            code=code), status)
    if headers:
        response.headers.extend(headers)
    return response


def app_response(body: str, status: int):
    from flask import make_response

    response = make_response(body, status)
    response.mimetype = "text/html"
    return response


def register_error_handlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        if wants_page():
            return error_page(exc.status, exc.code, exc.message)
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        if wants_page():
            return error_page(400, "csrf_failed", exc.description)
        return error_response(400, "csrf_failed", exc.description)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        if status == 429:
            message = "Too many requests; wait a moment and try again."
            if request.path.startswith(("/api/v1/assessments", "/screening")):
                message = f"{message} {HELP_NOW}"  # the screening's limit must never hide help
        headers = []
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers.append(("Allow", ", ".join(exc.valid_methods)))  # type: ignore[attr-defined]
        if wants_page():
            if status == 404:
                message = "There is no page at this address. It may have moved, or the link may be incomplete."
            return error_page(status, code, message, headers=headers)
        return error_response(status, code, message, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The type and where it happened, never the exception's text: it may quote PHI.
        log.error("unhandled error", extra={"exception": type(exc).__name__,
                                            "where": traceback.format_tb(exc.__traceback__)[-5:]})
        if wants_page():
            return error_page(500, "internal_error", "Something went wrong on our side; it has been logged. "
                                                      "Please try again in a moment.")
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")

"""Security headers on every response, errors included: nothing holding PHI is cached, nothing is
sniffed or framed, no referrer leaks a URL (which may name a record), the JSON API may load nothing,
a page's scripts and styles run only with this request's nonce, and HSTS in production.

Pages put `nonce="{{ csp_nonce() }}"` on their <script> and <style> elements; the nonce is made on
first use, so a response that uses none is served under the strict API policy. A view that sets its
own Content-Security-Policy (a printable document) keeps it, with `frame-ancestors 'none'` added.
Flask-Talisman is not used: see README "Dependencies".
"""
from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Responses that hold no PHI and may be cached: the liveness probe and static assets.
CACHEABLE_ENDPOINTS = frozenset({"health.healthz", "static", "assets.vendor"})


def csp_nonce() -> str:
    """This request's CSP nonce (for a page's <script nonce=...> and <style nonce=...>)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def page_policy(nonce: str, extra: dict[str, list[str]] | None = None) -> str:
    """A page's policy: its own origin and this request's nonce, plus the outside origins the page
    named with `pages.allow_csp` (Stripe.js on the payment page, Twilio in the video room)."""
    extra = extra or {}

    def more(kind: str) -> str:
        return "".join(f" {origin}" for origin in extra.get(kind, ()))

    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'{more('script')}; "
              f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:{more('img')}; font-src 'self'; "
              f"connect-src 'self'{more('connect')}; form-action 'self'; base-uri 'none'; "
              "frame-ancestors 'none'")
    if extra.get("frame"):
        policy += f"; frame-src{more('frame')}"
    if extra.get("media"):
        policy += f"; media-src 'self'{more('media')}"
    return policy


def _policy_for(response) -> str:
    own = response.headers.get("Content-Security-Policy")
    if own:
        return own if "frame-ancestors" in own else f"{own}; frame-ancestors 'none'"
    nonce = g.get("csp_nonce")
    return page_policy(nonce, g.get("csp_extra")) if nonce and response.mimetype == "text/html" else API_POLICY


def _set_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = _policy_for(response)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Referrer-Policy", "no-referrer")
    endpoint = request.endpoint or ""
    cacheable = endpoint in CACHEABLE_ENDPOINTS or endpoint.endswith(".static")
    if not cacheable or response.status_code >= 400:  # an error page may be a signed-in page
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    max_age = current_app.config["HSTS_SECONDS"]
    if max_age:
        headers["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
    return response


def init_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_set_headers)

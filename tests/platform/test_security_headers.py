"""Security headers on every response: nothing holding PHI is cached, nothing is sniffed or framed,
the JSON API may load nothing, a page's scripts run only with the request's nonce, and HSTS is
sent in production only."""
from __future__ import annotations

import re
import pytest
from flask import render_template_string

from telehealth import create_app
from tests.conftest import error_of, make_test_app, production_settings

API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def _assert_protected(response, *, cached_ok: bool = False):
    h = response.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"].split("style-src")[0]
    if not cached_ok:
        assert h["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in h  # not in testing


def test_a_json_response(client, auth):
    auth.as_role("patient")
    r = client.get("/api/v1/me")
    assert r.status_code == 200
    _assert_protected(r)
    assert r.headers["Content-Security-Policy"] == API_POLICY


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/api/v1/nowhere", 404),
    ("DELETE", "/api/v1/me", 405),
    ("GET", "/api/v1/me", 401),
    ("POST", "/api/v1/auth/login", 415),
])
def test_error_responses(client, method, url, status):
    r = client.open(url, method=method, data="x")
    assert r.status_code == status
    error_of(r)
    _assert_protected(r)
    assert r.headers["Content-Security-Policy"] == API_POLICY


def test_a_500(database_url):
    broken = make_test_app(database_url)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("no")

    r = broken.test_client().get("/boom")
    assert r.status_code == 500
    _assert_protected(r)


def test_a_pdf_download(client, auth):
    patient = auth.as_role("patient")
    r = client.get(f"/api/v1/patients/{patient.id}/superbill?start=2026-01-01&end=2026-01-31&format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    _assert_protected(r)


def test_an_ics_download(client, auth):
    auth.as_role("physician")
    url = client.post("/api/v1/me/calendar-feed", json={}).get_json()["url"]
    r = client.get(re.sub(r"^https?://[^/]+", "", url))
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    _assert_protected(r)


def test_liveness_may_be_cached(client):
    r = client.get("/healthz")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in r.headers.get("Cache-Control", "")


def test_pages_run_only_scripts_with_this_requests_nonce(database_url):
    app = make_test_app(database_url)

    @app.get("/page")
    def page():
        return render_template_string('<script nonce="{{ csp_nonce() }}">go()</script>')

    client = app.test_client()
    first, second = client.get("/page"), client.get("/page")
    nonces = []
    for r in (first, second):
        _assert_protected(r)
        policy = r.headers["Content-Security-Policy"]
        nonce = re.search(r'nonce="([^"]+)"', r.get_data(as_text=True)).group(1)
        assert f"script-src 'nonce-{nonce}'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


def _production():
    return create_app(production_settings())


def test_hsts_only_in_production(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    development = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "Strict-Transport-Security" not in development.test_client().get("/healthz").headers
    # liveness needs no database, so a production app answers it here
    r = _production().test_client().get("/healthz", base_url="https://telehealth.example")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert r.headers["X-Frame-Options"] == "DENY"

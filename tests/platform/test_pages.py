"""The portal's plumbing: errors as pages for browsers and JSON for the API, the page CSP, vendor
scripts from npm, safe redirects after sign-in, forms read with the API's schemas, CSRF."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from telehealth.errors import ValidationFailed
from telehealth.pages import form_body, local_time, money, safe_next
from telehealth.schemas.accounts.accounts import LoginIn
from tests.pages_support import BROWSER, csrf_token, submit, text_of


def test_an_unknown_address_is_a_page_for_a_browser_and_json_for_everyone_else(client):
    page = client.get("/no-such-page", headers=BROWSER)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "There is no page at this address" in text_of(page)
    assert "Get help now" in text_of(page)
    api = client.get("/no-such-page")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/nothing", headers=BROWSER).json["error"]["code"] == "not_found"


def test_pages_run_scripts_only_with_their_nonce_and_name_no_outside_origin(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = response.get_data(as_text=True)
    assert f'nonce="{nonce}"' in html
    assert "http" not in policy  # the sign-in page loads nothing from another origin
    assert response.headers["Cache-Control"] == "no-store"
    assert 'href="http' not in html.replace('href="https://', "")


def test_a_missing_static_file_is_an_uncached_page(client, create_user):
    from tests.conftest import PASSWORD

    create_user(email="static@example.com")
    submit(client, "/login", {"email": "static@example.com", "password": PASSWORD})
    for path in ("/static/nope.css", "/assets/vendor/nope.js"):
        missing = client.get(path, headers=BROWSER)
        assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/css/portal.css").headers.get("Cache-Control", "")


def test_vendor_scripts_come_from_the_npm_packages_and_nothing_else_is_served(client, app):
    response = client.get("/assets/vendor/htmx.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert b"htmx" in response.data[:2000]
    assert client.get("/assets/vendor/twilio-video.min.js").status_code == 200
    for name in ("package.json", "..%2Fpackage.json", "htmx.js"):
        assert client.get(f"/assets/vendor/{name}").status_code == 404


@pytest.mark.parametrize("target, expected", [
    ("/home", "/home"), ("/appointments/3/room", "/appointments/3/room"), ("https://evil.example/", "/d"),
    ("//evil.example/x", "/d"), ("/\\evil.example", "/d"), ("javascript:alert(1)", "/d"), ("", "/d"),
    (None, "/d"), ("home", "/d"), ("/home\nX-Evil: 1", "/d"), ("/home\r", "/d"), ("/a\tb", "/d"),
])
def test_after_sign_in_only_a_path_on_this_site_is_followed(target, expected):
    assert safe_next(target, "/d") == expected


def test_forms_are_read_with_the_apis_schema_and_its_messages(app):
    with app.test_request_context(method="POST", data={"email": "a@b.co", "password": "  "}):
        with pytest.raises(ValidationFailed) as refused:
            form_body(LoginIn)
    assert "password" in refused.value.fields
    with app.test_request_context(method="POST", data={"email": "a@b.co", "password": "x", "extra": "1"}):
        body = form_body(LoginIn)  # fields the schema does not name are not read
    assert body.email == "a@b.co"


def test_times_are_shown_in_the_viewers_zone_and_money_in_dollars(app):
    with app.test_request_context():
        assert local_time(datetime(2026, 7, 1, 18, 5, tzinfo=timezone.utc)) == "Wed, Jul 1, 2:05 PM EDT"
        assert local_time(datetime(2026, 7, 1, 18, 5, tzinfo=timezone.utc), "time") == "2:05 PM"
    assert money(19900) == "$199.00" and money(123456) == "$1,234.56" and money(0) == "$0.00"


def test_a_form_without_its_csrf_token_is_refused_in_words(client, create_user):
    create_user(email="csrf@example.com")
    refused = client.post("/login", data={"email": "csrf@example.com", "password": "x"}, headers=BROWSER)
    assert refused.status_code == 400
    assert "did not come from this site" in text_of(refused)
    assert csrf_token(client)


def test_sign_in_shows_the_services_refusal_and_signs_in(client, create_user):
    from tests.conftest import PASSWORD

    create_user(email="pat@example.com")
    wrong = submit(client, "/login", {"email": "pat@example.com", "password": "wrong-password"})
    assert wrong.status_code == 401 and "Wrong email or password" in text_of(wrong)
    ok = submit(client, "/login", {"email": "pat@example.com", "password": PASSWORD, "next": "https://evil.example"})
    assert ok.status_code == 302 and not ok.headers["Location"].startswith("https://evil")
    assert client.post("/session/keepalive", headers={"X-CSRFToken": csrf_token(client, "/no-page")}).status_code == 204


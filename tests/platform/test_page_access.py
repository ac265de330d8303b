"""Every portal page, swept from the URL map (so a new page is covered by existing): an anonymous
visitor is sent to sign in and comes back to the same path; a staff member opening a patient's page
is refused with a page in words; nothing answers 500."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from telehealth.models.accounts.accounts import Role
from tests.pages_support import BROWSER, csrf_token, text_of

_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule) -> str:
    return _ARG.sub(lambda m: "pre" if m.group(2) == "kind" else ("abc" if m.group(1) in (None, "string") else "1"),
                    rule.rule)


def _pages(app, *, public: bool):
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions[rule.endpoint], "page_spec", None)
        if spec is None or spec["public"] != public:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule, spec))
    return found


def test_the_sweep_sees_the_patient_portal(app):
    endpoints = {rule.endpoint for _, rule, _ in _pages(app, public=False)}
    assert {"home.index", "billing_pages.packages", "scheduling_pages.book", "home_care_pages.session",
            "screening_pages.progress", "records_pages.sharing"} <= endpoints


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(app, client):
    for method, rule, _ in _pages(app, public=False):
        path = _path(rule)
        if method == "GET":
            response = client.get(path, headers=BROWSER)
        else:
            response = client.post(path, data={"csrf_token": csrf_token(client)}, headers=BROWSER)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login?next="), (method, path)
        assert unquote(response.headers["Location"]) == f"/login?next={path}", (method, path)


@pytest.mark.parametrize("role", ["coach", "physician", "ops"])
def test_staff_opening_a_patients_page_get_a_refusal_in_words(app, client, auth, role):
    auth.as_role(role)
    for method, rule, spec in _pages(app, public=False):
        if spec["roles"] != (Role.PATIENT,):
            continue
        path = _path(rule)
        if method == "GET":
            response = client.get(path, headers=BROWSER)
        else:
            response = client.post(path, data={"csrf_token": csrf_token(client, "/no-such-page")}, headers=BROWSER)
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.mimetype == "text/html" and "not part of your account" in text_of(response), path

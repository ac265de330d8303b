"""The account pages with Flask's test client: sign-up claiming the screening, password reset, the
account and profile, the idle-logoff sign-out, who may open what, and CSRF on every form."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import Assessment, OutboxMail, PatientProfile, User
from tests.accounts.test_auth import SIGNUP
from tests.conftest import PASSWORD
from tests.pages_support import csrf_token, submit, text_of
from tests.screening_data import valid_screening_answers

NEW_PASSWORD = "a brand new passphrase"


def _form(**changes) -> dict:
    """The sign-up form as a browser posts it: nested parts as `part.field` inputs."""
    form = {key: value for key, value in SIGNUP.items() if not isinstance(value, dict)}
    form["state_of_residence"] = "NY"
    for part in ("shipping_address", "emergency_contact"):
        form.update({f"{part}.{key}": value for key, value in SIGNUP[part].items()})
    form.update(changes)
    return form


def _users(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def claim(client, db, create_user):
    """An anonymous screening's claim token, kept in the session as the screening pages keep it."""
    create_user("physician", states=["NY"])  # NY is serviced
    r = client.post("/api/v1/assessments", json={"questionnaire": "screening", "version": 1,
                                                  "answers": valid_screening_answers()})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    with client.session_transaction() as session:
        session["screening_claim"] = body["claim_token"]
    return body


# --------------------------------------------------------------------------- sign-up


def test_signup_without_a_screening_says_the_screening_comes_first_and_writes_nothing(client, db):
    r = client.get("/signup")
    assert r.status_code == 200
    words = text_of(r)
    assert "Start with the free screening" in words and "after the screening" in words
    assert 'name="email"' not in r.get_data(as_text=True)  # no form to fill in
    before = _users(db)
    r = submit(client, "/signup", _form(), token_from="/login")
    assert r.status_code == 409 and _users(db) == before


def test_signup_claims_the_screening_signs_in_and_goes_home(client, db, claim):
    r = client.get("/signup")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for name in ("email", "password", "legal_first_name", "date_of_birth", "state_of_residence", "time_zone", "phone",
                 "shipping_address.postal_code", "emergency_contact.phone", "mental_health_provider.name"):
        assert f'name="{name}"' in html, name
    assert "at least 10 characters" in text_of(r)  # the password rules, before a refusal
    assert claim["claim_token"] not in html  # the token stays in the session, never in the page
    r = submit(client, "/signup", _form())
    assert r.status_code == 302 and r.headers["Location"] in ("/home", "/")
    user = db.session.scalar(select(User).where(User.email == "riley.newcomer@example.org"))
    assert user is not None and user.patient_profile.phone_e164 == "+12125550123"
    assert user.patient_profile.mental_health_provider is None
    assert db.session.get(Assessment, claim["id"]).patient_id == user.id
    with client.session_transaction() as session:
        assert "screening_claim" not in session  # a new session: the token is gone with the old one
    assert client.get("/api/v1/me").get_json()["id"] == user.id


def test_signup_keeps_an_optional_provider_when_one_is_given(client, db, claim):
    r = submit(client, "/signup", _form(**{"mental_health_provider.name": "Dr. Own Therapist",
                                           "mental_health_provider.phone": "(212) 555-0177"}))
    assert r.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "riley.newcomer@example.org"))
    assert user.patient_profile.mental_health_provider["name"] == "Dr. Own Therapist"
    assert user.patient_profile.mental_health_provider["phone"] == "+12125550177"


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"date_of_birth": (now().date() - timedelta(days=365 * 17)).isoformat()}, "date_of_birth", "aged 18 and over"),
    ({"date_of_birth": "not a date"}, "date_of_birth", "Enter a real date"),
    ({"state_of_residence": ""}, "state_of_residence", "This field is required"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "IANA time zone"),
    ({"phone": "12"}, "phone", "phone number"),
    ({"password": "short"}, "password", "at least 10 characters"),
    ({"password": "riley.newcomer-and-more"}, "password", "Do not include your email"),
    ({"shipping_address.postal_code": "ABCDE"}, "shipping_address.postal_code", "5-digit ZIP code"),
    ({"emergency_contact.phone": ""}, "emergency_contact.phone", "This field is required"),
    ({"mental_health_provider.email": "not-an-email"}, "mental_health_provider.email", "@"),
    ({"legal_first_name": "x" * 101}, "legal_first_name", "at most 100 characters"),
])
def test_signup_refusals_are_in_words_beside_their_field_and_nothing_is_written(client, db, claim, changes,
                                                                                field, words):
    before = _users(db)
    r = submit(client, "/signup", _form(**changes))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = html.split(f'id="field-{field}-error"', 1)
    assert len(error) == 2, f"no message beside {field}"
    assert words in error[1].split("</p>", 1)[0]
    assert 'aria-describedby="' in html and 'aria-invalid="true"' in html
    assert _users(db) == before
    assert db.session.get(Assessment, claim["id"]).patient_id is None
    # what was typed stays (but never the password)
    if field not in ("password", "legal_first_name"):
        assert 'value="Riley"' in html
    assert SIGNUP["password"] not in html


def test_signup_with_a_taken_email_says_so_and_offers_sign_in(client, db, claim, create_user):
    create_user("patient", email="riley.newcomer@example.org")
    before = _users(db)
    r = submit(client, "/signup", _form())
    assert r.status_code == 409
    words = text_of(r)
    assert "already exists" in words and "Sign in" in words and "reset your password" in words
    assert _users(db) == before
    assert db.session.get(Assessment, claim["id"]).patient_id is None


def test_signup_with_a_claim_already_used_says_the_screening_is_gone(client, db, claim):
    assert client.post("/api/v1/auth/signup", json={**SIGNUP, "email": "first@example.org",
                                                    "assessment_claim_token": claim["claim_token"]}).status_code == 201
    client.post("/api/v1/auth/logout", json={})
    with client.session_transaction() as session:
        session["screening_claim"] = claim["claim_token"]
    r = client.get("/signup")
    assert r.status_code == 409 and "could not find your screening" in text_of(r)
    with client.session_transaction() as session:
        assert "screening_claim" not in session


def test_a_signed_in_person_opening_signup_goes_home(client, auth):
    auth.as_role("patient")
    r = client.get("/signup")
    assert r.status_code == 302


# --------------------------------------------------------------------------- password reset


def _mailed_link(db, email: str) -> str:
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == email).order_by(OutboxMail.id.desc()))
    assert mail is not None
    return next(line for line in mail.body.splitlines() if "/reset-password?token=" in line)


def test_reset_request_says_the_same_whether_or_not_the_account_exists(client, db, create_user):
    user = create_user("patient")
    assert "Email me a link" in text_of(client.get("/reset-password"))
    answers = []
    for email in (user.email, "nobody@example.org"):
        r = submit(client, "/reset-password", {"email": email}, follow_redirects=True)
        assert r.status_code == 200
        answers.append(text_of(r))
    assert answers[0] == answers[1] and "If an account exists for this email" in answers[0]
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_reset_by_the_emailed_link_sets_the_password_and_ends_other_sessions(app, client, db, create_user, auth):
    user = create_user("patient")
    other_device = app.test_client()
    other_device.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    submit(client, "/reset-password", {"email": user.email})
    link = urlparse(_mailed_link(db, user.email))
    assert link.path == "/reset-password"
    token = parse_qs(link.query)["token"][0]
    page_url = f"/reset-password?token={token}"
    r = client.get(page_url)
    assert r.status_code == 200 and "Choose a new password" in text_of(r)
    html = r.get_data(as_text=True)
    assert html.count(token) == 1 and f'name="token" value="{token}"' in html  # the hidden field only
    r = submit(client, "/reset-password", {"token": token, "new_password": "short"}, token_from=page_url)
    assert r.status_code == 422 and "at least 10 characters" in text_of(r)
    r = submit(client, "/reset-password", {"token": token, "new_password": NEW_PASSWORD}, token_from=page_url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert auth.login(user, NEW_PASSWORD).status_code == 200
    assert other_device.get("/api/v1/me").status_code == 401
    # used once: the same link is refused in words, with a way to ask for another
    r = client.get(page_url)
    assert r.status_code == 422 and "expired or was already used" in text_of(r) and "Email me a link" in text_of(r)


def test_an_expired_reset_link_is_refused_in_words(app, client, db, create_user, auth):
    user = create_user("patient")
    with time_machine.travel(now(), tick=False) as traveller:
        submit(client, "/reset-password", {"email": user.email})
        token = parse_qs(urlparse(_mailed_link(db, user.email)).query)["token"][0]
        traveller.shift(timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] + 1))
        r = client.get(f"/reset-password?token={token}")
        assert r.status_code == 422 and "expired" in text_of(r)
        r = submit(client, "/reset-password", {"token": token, "new_password": NEW_PASSWORD})
        assert r.status_code == 422 and "expired" in text_of(r)
    assert auth.login(user, NEW_PASSWORD).status_code == 401  # the password did not change


# --------------------------------------------------------------------------- account and profile


def _profile_form(user, **changes) -> dict:
    profile = user.patient_profile
    form = {"display_name": user.display_name, "time_zone": user.time_zone,
            "legal_first_name": profile.legal_first_name, "legal_last_name": profile.legal_last_name,
            "state_of_residence": profile.state_of_residence, "phone": profile.phone_e164}
    for part in ("shipping_address", "emergency_contact"):
        form.update({f"{part}.{k}": v for k, v in getattr(profile, part).items()})
    form.update(changes)
    return form


def test_account_page_shows_the_profile_and_saves_changes(client, db, auth):
    user = auth.as_role("patient")
    r = client.get("/account")
    assert r.status_code == 200
    words = text_of(r)
    assert user.email in words and "Albany" in r.get_data(as_text=True)
    r = submit(client, "/account", _profile_form(user, phone="(718) 555-0150", time_zone="America/Chicago", **{
        "shipping_address.city": "Chicago", "shipping_address.state": "IL", "shipping_address.postal_code": "60601",
        "mental_health_provider.name": "Dr. Own", "mental_health_provider.practice": "Elm Practice"}))
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.patient_profile.phone_e164 == "+17185550150" and fresh.time_zone == "America/Chicago"
    assert fresh.patient_profile.shipping_address["city"] == "Chicago"
    assert fresh.patient_profile.mental_health_provider["name"] == "Dr. Own"
    assert "Your details are saved." in text_of(client.get("/account"))
    # emptying every field of the optional provider removes them
    r = submit(client, "/account", _profile_form(fresh))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).patient_profile.mental_health_provider is None


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"phone": ""}, "phone", "This field is required"),
    ({"phone": "555"}, "phone", "phone number"),
    ({"legal_last_name": ""}, "legal_last_name", "This field is required"),
    ({"time_zone": "Nowhere/Else"}, "time_zone", "IANA time zone"),
    ({"shipping_address.postal_code": "1234"}, "shipping_address.postal_code", "5-digit ZIP code"),
    ({"emergency_contact.name": ""}, "emergency_contact.name", "This field is required"),
    ({"mental_health_provider.phone": "(212) 555-0177"}, "mental_health_provider.name", "This field is required"),
])
def test_profile_refusals_are_in_words_and_nothing_changes(client, db, auth, changes, field, words):
    user = auth.as_role("patient")
    before = (user.patient_profile.phone_e164, user.patient_profile.legal_last_name, user.time_zone,
              dict(user.patient_profile.shipping_address))
    r = submit(client, "/account", _profile_form(user, **changes))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = html.split(f'id="field-{field}-error"', 1)
    assert len(error) == 2, f"no message beside {field}"
    assert words in error[1].split("</p>", 1)[0]
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert (fresh.patient_profile.phone_e164, fresh.patient_profile.legal_last_name, fresh.time_zone,
            dict(fresh.patient_profile.shipping_address)) == before


def test_password_change_keeps_this_session_and_ends_the_others(app, client, db, auth):
    user = auth.as_role("patient")
    other_device = app.test_client()
    other_device.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    r = submit(client, "/account/password", {"current_password": "not the password", "new_password": NEW_PASSWORD},
               token_from="/account")
    assert r.status_code == 422 and "current password is not right" in text_of(r)
    r = submit(client, "/account/password", {"current_password": PASSWORD, "new_password": "tiny"},
               token_from="/account")
    assert r.status_code == 422 and "at least 10 characters" in text_of(r)
    r = submit(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
               token_from="/account")
    assert r.status_code == 302
    assert client.get("/account").status_code == 200  # still signed in here
    assert other_device.get("/api/v1/me").status_code == 401
    client.post("/api/v1/auth/logout", json={})
    assert auth.login(user, NEW_PASSWORD).status_code == 200


def test_account_links_to_the_other_areas_only_once_they_exist(client, auth, app):
    auth.as_role("patient")
    html = client.get("/account").get_data(as_text=True)
    for endpoint, label in (("messaging_pages.texts", "Text messages"),
                            ("records_pages.sharing", "Sharing and your records"),
                            ("billing_pages.orders", "Orders, receipts and refunds")):
        assert (label in html) == (endpoint in app.view_functions)


# --------------------------------------------------------------------------- who may open what


@pytest.mark.parametrize("path", ["/account", "/home"])
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, db, path):
    r = client.get(path)
    assert r.status_code == 302
    target = urlparse(r.headers["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == [path]


@pytest.mark.parametrize("role", ["physician", "coach", "ops", "admin"])
@pytest.mark.parametrize("path", ["/home"])
def test_staff_cannot_open_a_patients_pages(client, auth, role, path):
    auth.as_role(role)
    r = client.get(path)
    assert r.status_code == 403 and "not part of your account" in text_of(r)


@pytest.mark.parametrize("role", ["physician", "coach", "ops", "admin"])
def test_staff_have_their_own_account_page_without_a_patients_details(client, auth, role):
    user = auth.as_role(role)
    r = client.get("/account")
    assert r.status_code == 200
    words = text_of(r)
    assert user.email in words and "Two-step verification" in words and "Date of birth" not in words
    assert 'href="/account/two-factor"' in r.get_data(as_text=True)
    # a staff member's details are an admin's to change
    assert submit(client, "/account", {"display_name": "Someone Else"}).status_code == 403


# --------------------------------------------------------------------------- CSRF and the idle sign-out


@pytest.mark.parametrize(("path", "data"), [
    ("/signup", _form()),
    ("/reset-password", {"email": "someone@example.org"}),
    ("/account", {"phone": "(718) 555-0150"}),
    ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ("/logout", {}),
])
def test_a_form_without_the_csrf_token_is_refused(client, db, auth, claim, path, data):
    user = auth.as_role("patient")
    before = (_users(db), db.session.scalar(select(func.count()).select_from(OutboxMail)))
    r = client.post(path, data=data)
    assert r.status_code == 400 and "did not come from this site" in text_of(r)
    assert (_users(db), db.session.scalar(select(func.count()).select_from(OutboxMail))) == before
    assert client.get("/api/v1/me").status_code == 200  # not even signed out
    assert db.session.get(PatientProfile, user.id).phone_e164 == "+12125550100"


def test_the_idle_warning_signs_out_with_the_reason(client, auth):
    auth.as_role("patient")
    r = client.post("/logout", data={"reason": "idle", "csrf_token": csrf_token(client, "/account")})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert client.get("/api/v1/me").status_code == 401
    assert "signed out after a period of inactivity" in text_of(client.get("/login"))

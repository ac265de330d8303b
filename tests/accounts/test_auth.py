"""Sign-up, login, lockout, rate limits, sessions, automatic logoff, password reset and change."""
from __future__ import annotations

import copy
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from sqlalchemy import select, text

from telehealth.clock import now
from telehealth.models import OutboxMail, User
from tests.conftest import PASSWORD, error_of, make_test_app, production_settings

SIGNUP = {
    "email": "Riley.Newcomer@example.org",
    "password": "a long enough passphrase",
    "legal_first_name": "Riley",
    "legal_last_name": "Newcomer",
    "date_of_birth": "1990-03-04",
    "state_of_residence": "ny",
    "time_zone": "America/New_York",
    "phone": "(212) 555-0123",
    "shipping_address": {"line1": "1 Park Ave", "city": "New York", "state": "NY", "postal_code": "10016"},
    "emergency_contact": {"name": "Sam Newcomer", "relationship": "brother", "phone": "+1 646 555 0199"},
}


def signup_body(**changes):
    body = copy.deepcopy(SIGNUP)
    body.update(changes)
    return body


def test_signup_creates_a_patient_and_logs_in(client, db):
    r = client.post("/api/v1/auth/signup", json=signup_body())
    assert r.status_code == 201, r.get_json()
    me = r.get_json()
    assert me["role"] == "patient" and me["email"] == "riley.newcomer@example.org"
    assert me["patient"]["phone"] == "+12125550123"
    assert me["patient"]["state_of_residence"] == "NY"
    assert me["patient"]["emergency_contact"]["phone"] == "+16465550199"
    assert client.get("/api/v1/me").status_code == 200
    assert me["last_login_at"] is not None
    # created_at is shown in the patient's own zone
    assert me["created_at"].endswith(("-05:00", "-04:00"))


def test_sensitive_fields_are_encrypted_at_rest(client, db):
    client.post("/api/v1/auth/signup", json=signup_body())
    raw = db.session.execute(text(
        "SELECT date_of_birth, shipping_address, emergency_contact FROM patient_profiles")).all()
    assert raw
    for row in raw:
        blob = " ".join(row)
        assert "1990-03-04" not in blob and "Park Ave" not in blob and "Sam Newcomer" not in blob


def test_signup_with_a_taken_email_is_a_conflict(client, create_user, db):
    create_user("patient", email="riley.newcomer@example.org")
    before = db.session.scalar(select(User.id).order_by(User.id.desc()))
    r = client.post("/api/v1/auth/signup", json=signup_body())
    assert r.status_code == 409 and "email" in error_of(r)["fields"]
    assert db.session.scalar(select(User.id).order_by(User.id.desc())) == before


@pytest.mark.parametrize("years_old, ok", [(18, True), (17, False)])
def test_signup_age_threshold(client, years_old, ok):
    today = now().date()
    birthday = date(today.year - years_old, today.month, today.day) if not (today.month == 2 and today.day == 29) \
        else date(today.year - years_old, 2, 28)
    if not ok:
        birthday += timedelta(days=1)  # one day short of the next birthday... still 17
    r = client.post("/api/v1/auth/signup", json=signup_body(date_of_birth=birthday.isoformat()))
    if ok:
        assert r.status_code == 201, r.get_json()
    else:
        assert r.status_code == 422 and "date_of_birth" in error_of(r)["fields"]


@pytest.mark.parametrize("changes, field", [
    ({"phone": "555"}, "phone"),
    ({"state_of_residence": "ZZ"}, "state_of_residence"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"email": "not-an-email"}, "email"),
    ({"password": "short"}, "password"),
    ({"password": "aaaaaaaaaaaaaa"}, "password"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"date_of_birth": "04/03/1990"}, "date_of_birth"),
    ({"legal_first_name": ""}, "legal_first_name"),
    ({"legal_first_name": 42}, "legal_first_name"),
    ({"shipping_address": {**SIGNUP["shipping_address"], "postal_code": "ABCDE"}}, "shipping_address.postal_code"),
    ({"shipping_address": {**SIGNUP["shipping_address"], "floor": 3}}, "shipping_address.floor"),
    ({"emergency_contact": {"name": "X", "relationship": "y"}}, "emergency_contact.phone"),
])
def test_signup_rejects_bad_fields(client, db, changes, field):
    r = client.post("/api/v1/auth/signup", json=signup_body(**changes))
    assert r.status_code == 422, r.get_json()
    assert field in error_of(r)["fields"], error_of(r)
    assert db.session.scalar(select(User).where(User.email == SIGNUP["email"].lower())) is None


def test_login_wrong_password_and_unknown_email_look_alike(client, create_user):
    user = create_user("patient")
    wrong = client.post("/api/v1/auth/login", json={"email": user.email, "password": "nope nope nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "ghost@example.org", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown)
    assert error_of(wrong)["code"] == "invalid_credentials"


def test_login_is_case_insensitive_on_email(auth, create_user):
    create_user("patient", email="mixed@example.org")
    assert auth.login("MIXED@example.org").status_code == 200


def test_repeated_failures_lock_the_account_then_it_unlocks(client, auth, create_user, app):
    user = create_user("physician")
    with time_machine.travel(now(), tick=False) as traveller:
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            assert auth.login(user, "wrong password!").status_code == 401
        r = auth.login(user)  # even the right password is refused while locked
        assert r.status_code == 423 and error_of(r)["code"] == "account_locked"
        traveller.shift(timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] - 1))
        assert auth.login(user).status_code == 423
        traveller.shift(timedelta(minutes=2))
        assert auth.login(user).status_code == 200


def test_failures_below_the_limit_do_not_lock(auth, create_user, app):
    user = create_user("patient")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert auth.login(user, "wrong password!").status_code == 401
    assert auth.login(user).status_code == 200
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):  # a success resets the count
        assert auth.login(user, "wrong password!").status_code == 401
    assert auth.login(user).status_code == 200


def test_login_is_rate_limited_per_address(client, app):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    codes = [client.post("/api/v1/auth/login", json={"email": f"x{i}@example.org", "password": "whatever!!"}).status_code
             for i in range(limit + 1)]
    assert codes[:limit] == [401] * limit
    assert codes[limit] == 429
    r = client.post("/api/v1/auth/login", json={"email": "x@example.org", "password": "whatever!!"})
    assert error_of(r)["code"] == "rate_limited"


def test_inactive_account_cannot_log_in(auth, create_user):
    user = create_user("coach", active=False)
    assert auth.login(user).status_code == 401


def test_logout_ends_the_session(client, auth):
    auth.as_role("patient")
    assert client.get("/api/v1/me").status_code == 200
    assert auth.logout().status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_logout_ends_the_session_for_every_copy_of_the_cookie(client, app, auth):
    auth.as_role("physician")
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert thief.get("/api/v1/me").status_code == 200
    auth.logout()
    assert thief.get("/api/v1/me").status_code == 401


def test_sessions_are_stored_as_hashes(client, app, auth, db):
    from telehealth.models.accounts.accounts import LoginSession

    user = auth.as_role("patient")
    rows = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len(rows) == 1 and rows[0].is_open and len(rows[0].token_hash) == 64
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert rows[0].token_hash not in cookie
    auth.logout()
    db.session.expire_all()
    assert rows[0].ended_reason == "logout"


def test_session_cookie_flags(auth, create_user):
    response = auth.login(create_user("patient"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(database_url, create_user):
    settings = production_settings(TESTING=True)
    del settings["SQLALCHEMY_DATABASE_URI"]
    prod = make_test_app(database_url, **settings)
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    user = create_user("coach")  # no encrypted fields: the production app has its own keys
    with prod.app_context():
        r = prod.test_client().post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    assert "Secure" in r.headers["Set-Cookie"]


def test_staff_are_logged_off_after_15_idle_minutes(client, auth, app):
    with time_machine.travel(now(), tick=False) as traveller:
        auth.as_role("physician")
        traveller.shift(timedelta(minutes=10))
        assert client.get("/api/v1/me").status_code == 200  # activity resets the idle timer
        traveller.shift(timedelta(minutes=14))
        assert client.get("/api/v1/me").status_code == 200
        traveller.shift(timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"], seconds=1))
        r = client.get("/api/v1/me")
        assert r.status_code == 401 and error_of(r)["code"] == "session_expired"
        assert client.get("/api/v1/me").status_code == 401


def test_patients_have_a_longer_idle_limit(client, auth, app):
    with time_machine.travel(now(), tick=False) as traveller:
        auth.as_role("patient")
        traveller.shift(timedelta(minutes=app.config["STAFF_IDLE_TIMEOUT_MINUTES"] + 1))
        assert client.get("/api/v1/me").status_code == 200
        traveller.shift(timedelta(minutes=app.config["PATIENT_IDLE_TIMEOUT_MINUTES"] + 1))
        assert client.get("/api/v1/me").status_code == 401


def _reset_token(db, email: str) -> str:
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == email).order_by(OutboxMail.id.desc()))
    assert mail is not None
    link = next(line for line in mail.body.splitlines() if "token=" in line)
    return parse_qs(urlparse(link).query)["token"][0]


def test_password_reset_by_emailed_token(client, app, auth, create_user, db):
    user = create_user("patient")
    other_device = app.test_client()
    other_device.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    token = _reset_token(db, user.email)
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "brand new passphrase"})
    assert r.status_code == 204, r.get_json()
    assert auth.login(user).status_code == 401
    assert auth.login(user, "brand new passphrase").status_code == 200
    assert other_device.get("/api/v1/me").status_code == 401  # old sessions end with the old password
    # the token was for the old password: it cannot be used twice
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "another passphrase"})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client, db):
    r = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
    assert r.status_code == 202
    assert db.session.scalar(select(OutboxMail)) is None


def test_password_reset_tokens_expire_and_cannot_be_forged(client, create_user, db, app):
    user = create_user("patient")
    with time_machine.travel(now(), tick=False) as traveller:
        client.post("/api/v1/auth/password-reset", json={"email": user.email})
        token = _reset_token(db, user.email)
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        r = client.post("/api/v1/auth/password-reset/confirm", json={"token": forged, "new_password": "brand new passphrase"})
        assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"
        traveller.shift(timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] + 1))
        r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "brand new passphrase"})
        assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"


def test_password_reset_refuses_a_weak_password_and_keeps_the_old(client, auth, create_user, db):
    user = create_user("patient")
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = _reset_token(db, user.email)
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "short"})
    assert r.status_code == 422 and "new_password" in error_of(r)["fields"]
    assert auth.login(user).status_code == 200


def test_password_reset_lifts_a_lockout(client, auth, create_user, db, app):
    user = create_user("patient")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(user, "wrong password!")
    assert auth.login(user).status_code == 423
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    client.post("/api/v1/auth/password-reset/confirm",
                json={"token": _reset_token(db, user.email), "new_password": "brand new passphrase"})
    assert auth.login(user, "brand new passphrase").status_code == 200


def test_password_change_keeps_this_session_and_ends_others(client, app, auth):
    user = auth.as_role("coach")
    other_device = app.test_client()
    other_device.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    r = client.post("/api/v1/me/password", json={"current_password": "wrong one!", "new_password": "brand new passphrase"})
    assert r.status_code == 422 and "current_password" in error_of(r)["fields"]
    r = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "brand new passphrase"})
    assert r.status_code == 204
    assert client.get("/api/v1/me").status_code == 200
    assert other_device.get("/api/v1/me").status_code == 401


def test_profile_update_by_patient(client, auth, db):
    auth.as_role("patient")
    r = client.patch("/api/v1/me", json={"phone": "+1 (718) 555-0150", "time_zone": "America/Chicago",
                                          "shipping_address": {"line1": "9 Elm", "city": "Chicago", "state": "IL",
                                                               "postal_code": "60601"}})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["patient"]["phone"] == "+17185550150" and body["time_zone"] == "America/Chicago"
    assert body["patient"]["shipping_address"]["city"] == "Chicago"


def test_profile_update_refuses_fields_of_other_roles(client, auth):
    auth.as_role("physician")
    r = client.patch("/api/v1/me", json={"shipping_address": {"line1": "9 Elm", "city": "Chicago", "state": "IL",
                                                               "postal_code": "60601"}})
    assert r.status_code == 422 and "shipping_address" in error_of(r)["fields"]
    r = client.patch("/api/v1/me", json={"bio": "hello"})
    assert r.status_code == 422 and "bio" in error_of(r)["fields"]


def test_coach_updates_bio(client, auth):
    auth.as_role("coach")
    r = client.patch("/api/v1/me", json={"bio": "Somatic and IFS-informed."})
    assert r.status_code == 200 and r.get_json()["coach"]["bio"] == "Somatic and IFS-informed."


@pytest.mark.parametrize("role", ["patient", "physician", "coach", "admin"])
def test_an_authenticated_read_costs_one_select(client, auth, count_queries, role):
    auth.as_role(role)
    client.get("/api/v1/me")
    with count_queries() as counter:
        assert client.get("/api/v1/me").status_code == 200
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, selects  # session, user and profile in one statement


def test_profile_update_refuses_to_clear_what_a_profile_keeps(client, auth, db):
    user = auth.as_role("patient")
    r = client.patch("/api/v1/me", json={"phone": None, "shipping_address": None, "time_zone": None,
                                          "mental_health_provider": None})
    assert r.status_code == 422
    fields = error_of(r)["fields"]
    assert fields == {name: ["This field is required."] for name in ("phone", "shipping_address", "time_zone")}
    db.session.expire_all()
    assert db.session.get(User, user.id).patient_profile.phone_e164 == "+12125550100"


def test_refusals_of_common_fields_are_in_words(client, db):
    r = client.post("/api/v1/auth/signup", json=signup_body(
        date_of_birth="1990-13-45", legal_first_name="x" * 101, legal_last_name="",
        shipping_address={**SIGNUP["shipping_address"], "postal_code": "1001"}, email="no-at-sign"))
    fields = error_of(r)["fields"]
    assert fields["date_of_birth"] == ["Enter a real date, such as 1988-04-12 (year, month, day)."]
    assert fields["legal_first_name"] == ["Use at most 100 characters."]
    assert fields["legal_last_name"] == ["This field is required."]
    assert fields["shipping_address.postal_code"] == [
        "Enter a 5-digit ZIP code, such as 10016 (or ZIP+4, such as 10016-1234)."]
    assert fields["email"][0].startswith("An email address must have an @-sign")

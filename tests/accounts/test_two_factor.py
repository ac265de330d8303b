"""Staff two-step verification (TOTP and recovery codes): enrolment over the API and the page, and
the second factor every prescription signing needs (refused without a code, with a wrong or
replayed one, after a lockout, with nothing written), recovery codes used once, physicians sent
to enrol from the staff pages."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
import time_machine
from flask import Blueprint
from sqlalchemy import func, select, text

from telehealth.clock import now
from telehealth.models import AuditEvent, Prescription, Role, StaffRecoveryCode, StaffTwoFactor
from telehealth.services.accounts import two_factor
from tests.conftest import PASSWORD, TEST_TOTP_SECRET, error_of
from tests.pages_support import BROWSER, submit, text_of
from tests.pharmacy.test_prescriptions import TERMS, _approve, _consult


def _login(app, user):
    client = app.test_client()
    assert client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    return client


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _actions(db, user) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == user.id, AuditEvent.resource_type == "second_factor").order_by(AuditEvent.id)))


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def ready(db, create_user):
    """A NY patient, approved, seen by video by a NY physician with a DEA registration (enrolled)."""
    patient = create_user("patient")
    physician = create_user("physician", states=["NY"])
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = date.today() + timedelta(days=365)
    _approve(db, patient)
    _consult(db, patient, physician)
    db.session.commit()
    return patient, physician


def _sign(client, patient, code=None):
    body = dict(TERMS) if code is None else {**TERMS, "second_factor_code": code}
    return client.post(f"/api/v1/patients/{patient.id}/prescriptions", json=body)


# --------------------------------------------------------------------------- enrolment over the API


def test_enrolment_over_the_api(app, db, create_user):
    physician = create_user("physician", second_factor=False)
    client = _login(app, physician)
    status = client.get("/api/v1/me/two-factor").get_json()
    assert status["required"] is True and status["enrolled"] is False and status["pending"] is False
    r = client.post("/api/v1/me/two-factor")
    assert r.status_code == 201
    begun = r.get_json()
    uri = urlparse(begun["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["issuer"] == [app.config["CLINIC_NAME"]] and physician.email in unquote(uri.path)
    assert parse_qs(uri.query)["secret"] == [begun["secret"]]
    assert client.get("/api/v1/me/two-factor").get_json()["pending"] is True
    # the secret is stored encrypted, never as itself
    stored = db.session.execute(text("SELECT secret FROM staff_two_factors")).scalar_one()
    assert begun["secret"] not in stored

    code = pyotp.TOTP(begun["secret"]).at(now())
    r = client.post("/api/v1/me/two-factor/confirm", json={"code": _wrong(code)})
    assert r.status_code == 403 and error_of(r)["code"] == "second_factor_refused"
    assert client.get("/api/v1/me/two-factor").get_json()["enrolled"] is False
    r = client.post("/api/v1/me/two-factor/confirm", json={"code": code})
    assert r.status_code == 200, r.get_json()
    codes = r.get_json()["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    # only hashes are kept
    hashes = set(db.session.scalars(select(StaffRecoveryCode.code_hash)))
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)
    status = client.get("/api/v1/me/two-factor").get_json()
    assert status["enrolled"] is True and status["recovery_codes_left"] == 10 and status["confirmed_at"]
    # enrolled: nobody holding the session replaces the factor
    r = client.post("/api/v1/me/two-factor")
    assert r.status_code == 409 and error_of(r)["code"] == "second_factor_enrolled"
    assert _actions(db, physician) == ["begin", "enrol"]


def test_beginning_again_replaces_an_unconfirmed_secret(app, db, create_user):
    coach = create_user("coach")
    client = _login(app, coach)
    assert client.get("/api/v1/me/two-factor").get_json()["required"] is False  # coaches may enrol
    first = client.post("/api/v1/me/two-factor").get_json()["secret"]
    second = client.post("/api/v1/me/two-factor").get_json()["secret"]
    assert first != second
    r = client.post("/api/v1/me/two-factor/confirm", json={"code": pyotp.TOTP(first).at(now())})
    assert r.status_code == 403
    r = client.post("/api/v1/me/two-factor/confirm", json={"code": pyotp.TOTP(second).at(now())})
    assert r.status_code == 200


def test_patients_have_no_second_factor(app, db, create_user):
    client = _login(app, create_user("patient"))
    assert client.get("/api/v1/me/two-factor").status_code == 403
    assert client.post("/api/v1/me/two-factor").status_code == 403


def test_new_recovery_codes_need_a_code_and_replace_the_old(app, db, create_user, totp):
    physician = create_user("physician", second_factor=False)
    client = _login(app, physician)
    secret = client.post("/api/v1/me/two-factor").get_json()["secret"]
    old = client.post("/api/v1/me/two-factor/confirm", json={"code": pyotp.TOTP(secret).at(now())}
                      ).get_json()["recovery_codes"]
    r = client.post("/api/v1/me/two-factor/recovery-codes", json={"code": "000000"})
    assert r.status_code in (403, 200)  # 000000 is, once in a million, the right code
    if r.status_code == 403:
        assert error_of(r)["code"] == "second_factor_refused"
        r = client.post("/api/v1/me/two-factor/recovery-codes", json={"code": totp.code(physician, secret)})
    assert r.status_code == 200
    new = r.get_json()["recovery_codes"]
    assert set(new).isdisjoint(old) and _count(db, StaffRecoveryCode) == 10
    assert "regenerate_recovery_codes" in _actions(db, physician)
    r = client.post("/api/v1/me/two-factor/recovery-codes", json={"code": old[0]})  # the old ones stopped working
    assert r.status_code == 403 and "recovery code is not right" in error_of(r)["message"]
    r = client.post("/api/v1/me/two-factor/recovery-codes", json={"code": new[0]})
    assert r.status_code == 200


# --------------------------------------------------------------------------- signing needs the second factor


def test_signing_without_a_code_is_refused_and_writes_nothing(app, db, ready):
    patient, physician = ready
    r = _sign(_login(app, physician), patient)
    assert r.status_code == 403 and error_of(r)["code"] == "second_factor_required"
    assert error_of(r)["fields"]["second_factor_code"] == ["Enter the 6-digit code from your authenticator app."]
    assert _count(db, Prescription) == 0


def test_a_wrong_code_is_refused_counted_and_audited_and_writes_nothing(app, db, ready, totp):
    patient, physician = ready
    r = _sign(_login(app, physician), patient, _wrong(totp.code(physician)))
    assert r.status_code == 403 and error_of(r)["code"] == "second_factor_refused"
    assert "second_factor_code" in error_of(r)["fields"]
    assert _count(db, Prescription) == 0
    assert db.session.scalar(select(StaffTwoFactor.failed_attempts)) == 1
    assert _actions(db, physician) == ["second_factor_failed"]


def test_a_code_is_used_once(app, db, ready, totp):
    patient, physician = ready
    doc = _login(app, physician)
    code = totp.code(physician)
    first = _sign(doc, patient, code)
    assert first.status_code == 201, first.get_json()
    r = doc.post(f"/api/v1/prescriptions/{first.get_json()['id']}/versions",
                 json={**TERMS, "dose_per_session_mg": 300, "second_factor_code": code})
    assert r.status_code == 403 and error_of(r)["message"] == "That code was already used; wait for the next one."
    assert [p.version for p in db.session.scalars(select(Prescription))] == [1]
    # the next step's code changes it
    r = doc.post(f"/api/v1/prescriptions/{first.get_json()['id']}/versions",
                 json={**TERMS, "dose_per_session_mg": 300, "second_factor_code": totp.code(physician)})
    assert r.status_code == 201


def test_a_refused_precondition_spends_no_code(app, db, ready, totp):
    patient, physician = ready
    physician.physician_profile.dea_number = None
    db.session.commit()
    doc = _login(app, physician)
    code = totp.code(physician)
    assert _sign(doc, patient, code).status_code == 409
    physician.physician_profile.dea_number = "AB1234563"
    db.session.commit()
    assert _sign(doc, patient, code).status_code == 201


def test_five_wrong_codes_lock_signing_for_15_minutes(app, db, ready, totp):
    patient, physician = ready
    with time_machine.travel(now(), tick=False) as clock:
        doc = _login(app, physician)
        wrong = _wrong(totp.code(physician))
        for _ in range(4):
            assert _sign(doc, patient, wrong).status_code == 403
        r = _sign(doc, patient, wrong)
        assert r.status_code == 423 and error_of(r)["code"] == "second_factor_locked"
        assert "locked for 15 more minutes" in error_of(r)["message"]
        r = _sign(doc, patient, totp.code(physician))  # even the right code, while locked
        assert r.status_code == 423
        assert _count(db, Prescription) == 0
        assert _actions(db, physician).count("second_factor_locked") == 1
        clock.shift(timedelta(minutes=15, seconds=1))
        doc = _login(app, physician)
        assert _sign(doc, patient, totp.code(physician)).status_code == 201


def test_failures_older_than_the_window_do_not_add_up(app, db, ready, totp):
    patient, physician = ready
    with time_machine.travel(now(), tick=False) as clock:
        doc = _login(app, physician)
        for _ in range(4):
            assert _sign(doc, patient, _wrong(totp.code(physician))).status_code == 403
        clock.shift(timedelta(minutes=16))
        doc = _login(app, physician)
        assert _sign(doc, patient, _wrong(totp.code(physician))).status_code == 403  # 1 in a new window
        assert _sign(doc, patient, totp.code(physician)).status_code == 201


def test_a_physician_who_has_not_enrolled_is_told_to_set_it_up(app, db, ready, create_user):
    patient, physician = ready
    db.session.execute(StaffTwoFactor.__table__.delete())
    db.session.commit()
    r = _sign(_login(app, physician), patient, "123456")
    assert r.status_code == 403 and error_of(r)["code"] == "second_factor_required"
    assert error_of(r)["message"].startswith("Set up two-step verification first")
    assert _count(db, Prescription) == 0


def test_a_recovery_code_signs_once(app, db, ready):
    patient, physician = ready
    db.session.execute(StaffTwoFactor.__table__.delete())
    db.session.commit()
    doc = _login(app, physician)
    secret = doc.post("/api/v1/me/two-factor").get_json()["secret"]
    codes = doc.post("/api/v1/me/two-factor/confirm", json={"code": pyotp.TOTP(secret).at(now())}
                     ).get_json()["recovery_codes"]
    r = _sign(doc, patient, codes[3].upper())  # typed in capitals: still the code
    assert r.status_code == 201, r.get_json()
    assert "use_recovery_code" in _actions(db, physician)
    assert doc.get("/api/v1/me/two-factor").get_json()["recovery_codes_left"] == 9
    r = doc.post(f"/api/v1/prescriptions/{r.get_json()['id']}/versions",
                 json={**TERMS, "dose_per_session_mg": 300, "second_factor_code": codes[3]})
    assert r.status_code == 403 and "already used" in error_of(r)["message"]
    assert _count(db, Prescription) == 1


def test_the_code_is_not_a_term_of_the_prescription(app, db, ready, totp):
    patient, physician = ready
    body = _sign(_login(app, physician), patient, totp.code(physician)).get_json()
    assert "second_factor_code" not in body


def test_the_test_codes_move_the_clock_for_a_third_signing_in_one_step(app, db, create_user, totp):
    physician = create_user("physician")
    with time_machine.travel(now(), tick=False):
        seen = set()
        for _ in range(4):
            code = totp.code(physician)
            assert two_factor.verify(physician, code) == "totp"
            db.session.commit()
            seen.add(code)
        assert len(seen) == 4
    assert pyotp.TOTP(TEST_TOTP_SECRET).verify(pyotp.TOTP(TEST_TOTP_SECRET).now())


# --------------------------------------------------------------------------- the page


def test_enrolment_on_the_page(client, db, auth):
    physician = auth.as_role("physician", second_factor=False)
    r = client.get("/account/two-factor", headers=BROWSER)
    assert r.status_code == 200 and "must set it up" in text_of(r)
    r = submit(client, "/account/two-factor/begin", {}, token_from="/account/two-factor", follow_redirects=True)
    page_html = r.get_data(as_text=True)
    assert "<svg" in page_html and 'role="img"' in page_html and "style=" not in page_html.split("<svg", 1)[1]
    secret = db.session.get(StaffTwoFactor, physician.id).secret
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert grouped in text_of(r)
    code = pyotp.TOTP(secret).at(now())
    r = submit(client, "/account/two-factor/confirm", {"code": _wrong(code)}, token_from="/account/two-factor")
    assert r.status_code == 403 and "That code is not right" in text_of(r) and "<svg" in r.get_data(as_text=True)
    r = submit(client, "/account/two-factor/confirm", {"code": code}, token_from="/account/two-factor")
    assert r.status_code == 200 and "Save your recovery codes" in text_of(r)
    assert _count(db, StaffRecoveryCode) == 10
    assert "I have saved them" in text_of(r)
    r = client.get("/account/two-factor", headers=BROWSER)
    assert "On since" in text_of(r) and "10 of 10" in text_of(r) and "<svg" not in r.get_data(as_text=True)


def test_new_recovery_codes_on_the_page(client, db, auth, totp):
    user = auth.as_role("admin")
    r = submit(client, "/account/two-factor/recovery-codes", {"code": ""}, token_from="/account/two-factor")
    assert r.status_code == 422 and "This field is required" in text_of(r)
    r = submit(client, "/account/two-factor/recovery-codes", {"code": totp.code(user)},
               token_from="/account/two-factor")
    assert r.status_code == 200 and "Save your recovery codes" in text_of(r)


def test_a_physician_who_has_not_enrolled_is_sent_to_enrol_from_staff_pages(app, db, create_user):
    """Every staff page sends a physician or admin without a second factor to enrol; the enrolment
    page, their account and signing out stay open. (A staff page of the test's own, registered on
    an app of its own: the care team's pages are other modules'.)"""
    from telehealth.pages import page
    from tests.conftest import make_test_app

    probe = Blueprint("probe_pages", __name__)

    @probe.get("/probe/staff")
    @page(roles=(Role.PHYSICIAN, Role.COACH, Role.ADMIN))
    def staff_page():
        return "the staff page"

    other = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"])
    other.register_blueprint(probe)
    physician = create_user("physician", second_factor=False)
    coach = create_user("coach")
    enrolled = create_user("admin")
    with other.app_context():
        client = other.test_client()
        client.post("/api/v1/auth/login", json={"email": physician.email, "password": PASSWORD})
        r = client.get("/probe/staff", headers=BROWSER)
        assert r.status_code == 302 and r.headers["Location"] == "/account/two-factor"
        for path in ("/account/two-factor", "/account"):
            assert client.get(path, headers=BROWSER).status_code == 200, path
        for user in (coach, enrolled):  # a coach need not enrol; an enrolled admin goes on
            client = other.test_client()
            client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
            r = client.get("/probe/staff", headers=BROWSER)
            assert r.status_code == 200 and r.get_data(as_text=True) == "the staff page"



def test_one_code_sent_twice_at_once_signs_once(app, committed, live_server):
    """Two signings for two patients (no lock in common but the factor's row) with one code, sent
    together: one is signed, the other is told the code was used."""
    import json
    import threading
    import urllib.error
    import urllib.request

    from tests.conftest import _make_user

    physician = _make_user(committed, "physician", states=["NY"])
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = now().date() + timedelta(days=365)
    patients = [_make_user(committed, "patient") for _ in range(2)]
    for patient in patients:
        _approve(committed, patient)
        _consult(committed, patient, physician)
    committed.session.commit()
    client = _login(app, physician)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = f"{name}={client.get_cookie(name).value}"
    step = int(now().timestamp()) // 30 + 1  # the next step's code: still good if a step ends meanwhile
    body = json.dumps({**TERMS, "second_factor_code": pyotp.TOTP(TEST_TOTP_SECRET).at(step * 30)}).encode()
    results: list[tuple[int, dict]] = []
    start = threading.Barrier(len(patients))

    def send(patient_id: int) -> None:
        request = urllib.request.Request(f"{live_server}/api/v1/patients/{patient_id}/prescriptions", data=body,
                                         method="POST", headers={"Content-Type": "application/json", "Cookie": cookie})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                results.append((response.status, json.loads(response.read())))
        except urllib.error.HTTPError as exc:
            results.append((exc.code, json.loads(exc.read())))

    threads = [threading.Thread(target=send, args=(p.id,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _ in results) == [201, 403], results
    refused = next(answer for status, answer in results if status == 403)
    assert refused["error"]["message"] == "That code was already used; wait for the next one."
    committed.session.expire_all()
    assert _count(committed, Prescription) == 1

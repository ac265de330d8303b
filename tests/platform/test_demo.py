"""`flask seed-demo` and `make run`: every demo provider has hours, a demo patient at each stage of
the program gives every role something to do at once, seeding twice changes nothing, and the
development server's public address follows its port."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from telehealth.clock import now, today_in
from telehealth.models import Appointment, AppointmentStatus, CreditKind, Order, Role, Shipment, ShipmentStatus, User
from telehealth.models.screening.assessments import ReviewStatus
from telehealth.models.home_care.home_sessions import HomeSession
from telehealth.services.accounts import accounts
from telehealth.services.billing import ledger, purchases
from telehealth.services.care import outcomes, worklist
from telehealth.services.home_care import home_sessions
from telehealth.services.pharmacy import prescriptions
from telehealth.services.scheduling import scheduling
from telehealth.services.screening import reviews
from telehealth.services.home_care.session_gates import evaluate_gates
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-password-2026"
STAGES = ("patient.review", "patient", "patient.consult", "patient.prescribe", "patient.ready", "patient.treatment")


def _user(local: str) -> User:
    user = accounts.find_by_email(f"{local}@demo.telehealth")
    assert user is not None, local
    return user


def _login(app, email: str):
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, (email, r.get_json())
    return client


def demo_totp_code() -> str:
    """A code from the authenticator of the demo staff who enrolled before the demo (the published secret)."""
    import pyotp

    from telehealth.demo import DEMO_TOTP_SECRET

    return pyotp.TOTP(DEMO_TOTP_SECRET).at(now())


def _seed(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


# --------------------------------------------------------------------------- providers' hours


def test_every_demo_provider_has_weekly_hours_and_a_demo_patient_finds_slots(app, runner, db):
    output = _seed(runner)
    providers = db.session.scalars(select(User).where(User.role.in_((Role.PHYSICIAN, Role.COACH)),
                                                      User.email.like("%@demo.telehealth"))).all()
    assert len(providers) == 5
    for provider in providers:
        windows = scheduling.windows_of(provider.id)
        assert {w.weekday for w in windows} >= {0, 1, 2, 3, 4}, provider.email
        assert any(w.end_time.hour >= 19 for w in windows), provider.email  # some evening hours
    client = _login(app, "patient@demo.telehealth")  # approved, in NY
    start, end = now(), now() + timedelta(days=7)
    r = client.get("/api/v1/slots", query_string={"type": "consult", "start": start.isoformat(),
                                                   "end": end.isoformat()})
    assert r.status_code == 200, r.get_json()
    offered = {s["provider_name"] for s in r.get_json()["items"]}
    assert offered == {"Dr. Maya Adams", "Dr. Samuel Brooks"}  # licensed in NY; Dr. Chen is not
    r = client.get("/api/v1/slots", query_string={"type": "coaching_30", "start": start.isoformat(),
                                                   "end": end.isoformat()})
    assert {s["provider_name"] for s in r.get_json()["items"]} == {"Jordan Lee", "Alex Rivera"}
    # the output says which states each physician covers
    assert "CA, NY, TX" in output and "FL, NY, WA" in output and "AZ, CO, IL, TX" in output


# --------------------------------------------------------------------------- a patient at each stage


def test_the_output_lists_every_login_with_its_stage(runner, db):
    output = _seed(runner)
    for local in STAGES:
        line = next(line for line in output.splitlines() if f" {local}@demo.telehealth " in line)
        assert PASSWORD in line and len(line.split(PASSWORD)[1].strip()) > 10, line  # a stage is named
    emails = {u.email for u in db.session.scalars(select(User).where(User.role == Role.PATIENT))
              if u.email.endswith("@demo.telehealth")}
    assert emails == {f"{local}@demo.telehealth" for local in STAGES}


def test_the_screened_patient_waits_for_review_and_the_approved_one_may_buy(app, runner, db):
    _seed(runner)
    waiting = _user("patient.review")
    physician = _user("dr.chen")
    [item] = reviews.queue(physician)
    assert item.patient_id == waiting.id and item.review_status is ReviewStatus.PENDING
    assert item.review_due_at > now()  # inside its 24-hour SLA
    approved = _user("patient")
    assert purchases.purchase_blocker(approved) is None
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.patient_id == approved.id)) == 0


def test_the_paid_patient_has_a_consult_starting_now_that_the_physician_can_join(app, runner, db):
    _seed(runner)
    patient = _user("patient.consult")
    [order] = db.session.scalars(select(Order).where(Order.patient_id == patient.id)).all()
    assert order.paid_at is not None and order.paid_at <= now()
    [consult] = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id,
                                                             Appointment.appointment_type == "consult")).all()
    assert consult.status is AppointmentStatus.BOOKED and consult.appointment_type == "consult"
    # begun already (so an encounter can be recorded at once), most of it still ahead
    assert now() - timedelta(minutes=5) <= consult.starts_at <= now() < consult.ends_at - timedelta(minutes=20)
    physician = db.session.get(User, consult.provider_id)
    assert physician.physician_profile.license_for(patient.patient_profile.state_of_residence,
                                                  today_in(patient.time_zone)) is not None
    r = _login(app, physician.email).post(f"/api/v1/appointments/{consult.id}/video-token", json={})
    assert r.status_code == 200, r.get_json()
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 0  # the consult credit is used


def test_the_seeded_consult_is_held_and_its_physician_prescribes_without_an_admin(app, runner, db):
    """Right after seeding, as scripts/demo_journey.py does: the physician of the booked consult reads the
    patient, records the encounter (begun at the consult's start, ended now) and prescribes."""
    _seed(runner)
    patient = _user("patient.consult")
    [consult] = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id,
                                                             Appointment.appointment_type == "consult")).all()
    physician = db.session.get(User, consult.provider_id)
    doctor = _login(app, physician.email)
    assert doctor.get(f"/api/v1/patients/{patient.id}").status_code == 200
    ended = now()
    r = doctor.post(f"/api/v1/appointments/{consult.id}/complete", json={
        "started_at": max(consult.starts_at, ended - timedelta(minutes=20)).isoformat(),
        "ended_at": ended.isoformat(), "notes": "Seeded consult held."})
    assert r.status_code == 200, r.get_json()
    r = doctor.post(f"/api/v1/patients/{patient.id}/prescriptions", json={
        "form": "sublingual_tablet", "strength_mg": 100, "dose_per_session_mg": 200, "sessions": 6, "refills": 0,
        "diagnosis_code": "F33.2", "directions": "Dissolve two 100 mg tablets under the tongue.",
        "second_factor_code": demo_totp_code()})
    assert r.status_code == 201, r.get_json()


def test_the_consulted_patient_awaits_a_prescription_the_physician_may_sign(runner, db):
    _seed(runner)
    patient = _user("patient.prescribe")
    [consult] = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id,
                                                             Appointment.appointment_type == "consult")).all()
    assert consult.status is AppointmentStatus.COMPLETED and consult.encounter_modality == "video"
    assert consult.encounter_ended_at < now()
    physician = db.session.get(User, consult.provider_id)
    problems, encounter = prescriptions.refusals(physician, patient, today_in(patient.time_zone))
    assert problems == [] and encounter.id == consult.id
    assert prescriptions.active_prescription(patient.id) is None


def test_the_prescribed_patient_is_held_only_by_the_sitter_and_blood_pressure(runner, db):
    _seed(runner)
    patient = _user("patient.ready")
    rx = prescriptions.active_prescription(patient.id)
    assert rx is not None and rx.signed_at < now()
    [stage] = db.session.scalars(select(Shipment).where(Shipment.patient_id == patient.id)).all()
    assert stage.status is ShipmentStatus.DELIVERED and stage.delivered_at < now()
    session = home_sessions.schedule_session(patient, now() + timedelta(hours=1), "Sam Sitter", "+12125550123")
    failing = {g.id for g in evaluate_gates(patient, session, now()) if not g.ok}
    assert failing == {"sitter", "blood_pressure"}


def test_the_patient_in_treatment_has_sessions_and_measures_showing_a_response(runner, db):
    _seed(runner)
    patient = _user("patient.treatment")
    sessions = db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient.id)).all()
    assert len(sessions) >= 3 and all(s.started_at < now() for s in sessions)
    result = outcomes.patient_outcomes(patient, patient.id)
    phq9 = next(i for i in result.instruments if i.instrument == "phq9")
    gad7 = next(i for i in result.instruments if i.instrument == "gad7")
    assert phq9.response is True and phq9.worsening is False and len(phq9.series) >= 4
    assert gad7.change < 0
    # their physician's work list has them: a follow-up is due (a month since the last one)
    [item] = worklist.worklist(_user("dr.chen")).items
    assert item.patient_id == patient.id and [r.code for r in item.reasons] == ["follow_up_due"]
    session = home_sessions.schedule_session(patient, now() + timedelta(hours=1), "Sam Sitter", "+12125550123")
    failing = {g.id for g in evaluate_gates(patient, session, now()) if not g.ok}
    assert failing == {"sitter", "blood_pressure"}


def test_each_coach_has_coaching_appointments_with_an_assigned_patient(app, runner, db):
    _seed(runner)
    for local in ("coach.lee", "coach.rivera"):
        coach = _user(local)
        appointments = db.session.scalars(select(Appointment).where(Appointment.provider_id == coach.id)).all()
        assert any(a.status is AppointmentStatus.BOOKED and a.starts_at > now() for a in appointments), local
        r = _login(app, coach.email).get(f"/api/v1/patients/{appointments[0].patient_id}/coaching-notes")
        assert r.status_code == 200, (local, r.get_json())  # on the patient's care team


# --------------------------------------------------------------------------- idempotent


def test_seeding_twice_changes_nothing(runner, db):
    _seed(runner)

    def snapshot():
        return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                for table in db.metadata.sorted_tables}

    first = snapshot()
    second_output = _seed(runner)
    assert snapshot() == first
    assert "patient.treatment@demo.telehealth" in second_output


def test_a_later_seed_books_the_stale_consult_again_for_now(runner, db):
    """The next day's `make run` (the DB kept): the consult seeded "for now" yesterday went unheld;
    it is released with its credit and booked again, so the physician has a consult to join."""
    _seed(runner)
    patient = _user("patient.consult")
    [stale] = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()
    with time_machine.travel(now() + timedelta(days=1), tick=False):
        _seed(runner)
        consults = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)
                                      .order_by(Appointment.id)).all()
        assert [a.status for a in consults] == [AppointmentStatus.CANCELLED, AppointmentStatus.BOOKED]
        assert consults[0].id == stale.id and consults[1].starts_at <= now() < consults[1].ends_at
        assert ledger.balances(patient.id)[CreditKind.CONSULT] == 0  # the credit moved, none created
        _seed(runner)
        assert len(db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()) == 2


# --------------------------------------------------------------------------- make run's address


def _settings(env: dict) -> str:
    script = "from config import config_for; print(config_for('development').PUBLIC_BASE_URL)"
    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "HOST", "PORT")}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**clean, **env}, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_public_base_url_follows_port_in_development_unless_set():
    assert _settings({}) == "http://127.0.0.1:5000"
    assert _settings({"PORT": "5077"}) == "http://127.0.0.1:5077"
    assert _settings({"HOST": "0.0.0.0", "PORT": "5077"}) == "http://127.0.0.1:5077"  # reachable, not "any"
    assert _settings({"PORT": "5077", "PUBLIC_BASE_URL": "https://care.example.org"}) == "https://care.example.org"


def test_sms_receive_says_clearly_when_no_server_answers(app, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", url)
    result = app.test_cli_runner().invoke(args=["sms-receive", "+12125550143", "HELP"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and url in lines[0] and "make run" in lines[0], result.output


def test_every_demo_physician_has_a_phone_to_be_paged_at(app, runner, db):
    """A physician with no phone is never paged; in the demo, with nobody on call, only the fallback would be."""
    _seed(runner)
    physicians = list(db.session.scalars(select(User).where(User.role == Role.PHYSICIAN)))
    assert physicians and all(u.physician_profile.phone_e164 for u in physicians)
    assert len({u.physician_profile.phone_e164 for u in physicians}) == len(physicians)
    assert app.test_client().get("/readyz").get_json()["physicians_without_phone"] == 0


def test_demo_staff_second_factors_leave_dr_adams_to_enrol_from_the_page(runner, db):
    from telehealth.services.accounts import two_factor

    _seed(runner)
    assert not two_factor.is_enrolled(_user("dr.adams")) and two_factor.needs_enrolment(_user("dr.adams"))
    assert all(two_factor.is_enrolled(_user(local)) for local in ("dr.brooks", "dr.chen", "admin"))
    assert two_factor.verify(_user("dr.chen"), demo_totp_code()) == "totp"
    # scripts/demo_journey.py computes the same codes with the standard library alone
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo_journey
    finally:
        sys.path.pop(0)
    import pyotp

    from telehealth.demo import DEMO_TOTP_SECRET

    assert demo_journey.DEMO_TOTP_SECRET == DEMO_TOTP_SECRET
    assert demo_journey.totp_code(at=1_800_000_000) == pyotp.TOTP(DEMO_TOTP_SECRET).at(1_800_000_000)


def test_dr_adams_has_an_alert_answered_since_a_follow_up_now_and_a_review_on_her_today_page(app, runner, db):
    """Her Today page has something real: the crisis alert of her patient, not acknowledged, with the
    patient's later reply; the follow-up booked for now, its room open; on her work list for both;
    and the screening waiting in the review queue."""
    from telehealth.services.care import today

    _seed(runner)
    adams, patient = _user("dr.adams"), _user("patient.prescribe")
    day = today.today(adams)
    [card] = [c for c in day.alerts if c.alert.patient_id == patient.id]
    assert card.alert.kind == "crisis" and card.alert.urgency == "urgent" and card.alert.acknowledged_at is None
    assert card.patient_name == "Jesse Prescribe"
    assert [a.kind for a in card.activity if a.kind == "text"] == ["text"] and card.heard_from_patient
    assert any(a.kind == "paged" for a in card.activity)
    follow_up = db.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id,
                                                           Appointment.appointment_type == "follow_up"))
    assert follow_up.status is AppointmentStatus.BOOKED and now() < follow_up.starts_at <= now() + timedelta(minutes=10)
    if follow_up.starts_at.astimezone(ZoneInfo(adams.time_zone)).date() == today_in(adams.time_zone):
        [row] = day.appointments.rows  # (seeded in the last minutes of her day, it is tomorrow's)
        assert row.appointment.id == follow_up.id and row.joinable
    [item] = day.work.items
    assert {r.code for r in item.reasons} == {"escalation", "follow_up_due"}
    assert [r.assessment.patient_id for r in day.reviews.rows] == [_user("patient.review").id]


def test_a_later_seed_books_the_stale_follow_up_again_for_now(runner, db):
    _seed(runner)
    patient = _user("patient.prescribe")
    with time_machine.travel(now() + timedelta(days=1), tick=False):
        _seed(runner)
        follow_ups = db.session.scalars(select(Appointment).where(
            Appointment.patient_id == patient.id, Appointment.appointment_type == "follow_up")
            .order_by(Appointment.id)).all()
        assert [a.status for a in follow_ups] == [AppointmentStatus.CANCELLED, AppointmentStatus.BOOKED]
        assert now() < follow_ups[1].starts_at <= now() + timedelta(minutes=10)

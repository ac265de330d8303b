"""The demo data of `flask seed-demo` (and so of `make run`): staff with weekly hours, and one patient
at each stage of the program, so every role has something real to do at once.

- `patient.review@`: screened, waiting for a physician's review;
- `patient@`: screening approved, nothing bought yet;
- `patient.consult@`: paid, with a consult that began at seeding (the last 5-minute boundary; the
  physician and the patient can join its video and record the encounter at once);
- `patient.prescribe@`: the consult was held (a recorded video encounter): the physician may prescribe;
- `patient.ready@`: prescribed and delivered: only the sitter and the blood pressure stand between the
  patient and a first session;
- `patient.treatment@`: five sessions done, PHQ-9 and GAD-7 measured over time (a response), a coach.

The clock stays real: the history is written in the past, with the services where a service takes
the time (screening, review, booking credits, completing an encounter) and with the models' own
verbs where the service would stamp "now" (a booking inside the notice period, a prescription
signed last month, a stage the pharmacy delivered last week). Every past step is checked by the
same rules as a live one (prescribing preconditions, session gates), so the story is one the
application could have lived.

Idempotent: staff, availability and each stage's patient are created only when missing, so a
second run adds nothing; the one exception is the consult booked "for now", which is booked again
when the one seeded earlier has gone stale (still booked, its video closed), so every `make run`
has a consult to join.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from telehealth.clock import UTC, day_bounds, in_zone, now, today_in
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.two_factor import StaffTwoFactor
from telehealth.models.screening.assessments import Assessment, Decision, Measure
from telehealth.models.billing.billing import CreditKind, Order, OrderStatus
from telehealth.models.care.care_notes import CoachingNote
from telehealth.models.care.journal import JournalEntry
from telehealth.models.messaging.messaging import InboundMessage, MessagePriority, MessageStatus, OutboundMessage
from telehealth.models.platform.alerts import AlertPage, AlertStatus, ClinicalAlert
from telehealth.models.home_care.home_sessions import (
    BloodPressureReading, BpSource, CheckIn, CheckInKind, CheckInStatus, HomeSession, SessionStatus,
)
from telehealth.models.pharmacy.prescriptions import DosageForm, Prescription
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus, Reminder
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.policy import current_policy
from telehealth.schemas.accounts.accounts import PatientSignupIn, StaffCreateIn
from telehealth.schemas.common import luhn_ok
from telehealth.services.accounts import accounts, care_team, staff
from telehealth.services.billing import catalog, ledger, stripe_events
from telehealth.services.care import journal
from telehealth.services.home_care import home_sessions
from telehealth.services.home_care.check_in_messages import CRISIS_REPLY
from telehealth.services.messaging import notifications
from telehealth.services.screening import crisis_language
from telehealth.services.pharmacy import prescriptions
from telehealth.services.platform import audit, on_call
from telehealth.services.scheduling import scheduling
from telehealth.services.screening import assessments, reviews, scoring
from telehealth.services.home_care.session_gates import bp_band, evaluate_gates
from telehealth.services.pharmacy.shipping_sla import deadlines

DEMO_PASSWORD = "demo-password-2026"
# The authenticator secret of the demo staff who enrolled a second factor before the demo began
# (published like the password: it guards nothing real). Dr. Adams has not enrolled: a newcomer
# signing in as her sets it up from the page, as a new physician would.
DEMO_TOTP_SECRET = "DEMOTELEHEALTHDEMOTELEHEALTH2345"
DEMO_ENROLLED = ("dr.brooks", "dr.chen", "admin")
DOMAIN = "demo.telehealth"
# Weekly hours, wall-clock in each provider's own zone (weekday 0 is Monday).
WEEKDAYS = [(d, time(9), time(17)) for d in range(5)]
PHYSICIAN_HOURS = WEEKDAYS + [(1, time(17), time(20)), (3, time(17), time(20))]
COACH_HOURS = WEEKDAYS + [(0, time(17), time(20)), (2, time(17), time(20))]
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    password: str
    note: str


def _npi(base9: str) -> str:
    return next(base9 + str(d) for d in range(10) if luhn_ok("80840" + base9 + str(d)))


def _dea(prefix: str, base6: str) -> str:
    d = [int(c) for c in base6]
    return f"{prefix}{base6}{(d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10}"


def demo_staff() -> list[dict]:
    year = date.today().year + 2
    lic = lambda states: [{"state": s, "license_number": f"{s}-{1000 + i}", "expires_on": date(year, 6, 30)}  # noqa: E731
                          for i, s in enumerate(states)]
    return [
        {"email": f"dr.adams@{DOMAIN}", "role": "physician", "display_name": "Dr. Maya Adams",
         "time_zone": "America/Los_Angeles", "npi": _npi("123456789"), "dea_number": _dea("BA", "123456"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["CA", "NY", "TX"]), "phone": "+13105550171"},
        {"email": f"dr.brooks@{DOMAIN}", "role": "physician", "display_name": "Dr. Samuel Brooks",
         "time_zone": "America/New_York", "npi": _npi("198765432"), "dea_number": _dea("BB", "654321"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["FL", "NY", "WA"]), "phone": "+12125550172"},
        {"email": f"dr.chen@{DOMAIN}", "role": "physician", "display_name": "Dr. Priya Chen",
         "time_zone": "America/Denver", "npi": _npi("155512345"), "dea_number": _dea("BC", "246802"),
         "dea_expires_on": date(year, 12, 31), "licenses": lic(["AZ", "CO", "IL", "TX"]),
         "phone": "+17205550173"},
        {"email": f"coach.lee@{DOMAIN}", "role": "coach", "display_name": "Jordan Lee",
         "time_zone": "America/Chicago", "bio": "Trauma-informed integration coach."},
        {"email": f"coach.rivera@{DOMAIN}", "role": "coach", "display_name": "Alex Rivera",
         "time_zone": "America/New_York", "bio": "Integration coach, somatic practices."},
        {"email": f"ops@{DOMAIN}", "role": "ops", "display_name": "Casey Morgan", "time_zone": "America/New_York"},
        {"email": f"admin@{DOMAIN}", "role": "admin", "display_name": "Robin Patel", "time_zone": "America/New_York"},
    ]


def _patient(local: str, first: str, last: str, dob: str, state: str, zone: str, phone: str, city: str,
             postal: str) -> dict:
    return {"email": f"{local}@{DOMAIN}", "password": DEMO_PASSWORD, "legal_first_name": first,
            "legal_last_name": last, "date_of_birth": dob, "state_of_residence": state, "time_zone": zone,
            "phone": phone, "shipping_address": {"line1": "12 Example Street", "city": city, "state": state,
                                                 "postal_code": postal},
            "emergency_contact": {"name": f"Jamie {last}", "relationship": "partner", "phone": "+12125550188"}}


DEMO_PATIENT = _patient("patient", "Taylor", "Demo", "1988-04-12", "NY", "America/New_York", "+12125550143",
                        "Brooklyn", "11201")
PATIENTS = {
    "review": _patient("patient.review", "Riley", "Review", "1991-07-02", "TX", "America/Chicago", "+15125550144",
                       "Austin", "78701"),
    "approved": DEMO_PATIENT,
    "consult": _patient("patient.consult", "Morgan", "Consult", "1983-11-20", "FL", "America/New_York",
                        "+13055550145", "Miami", "33101"),
    "prescribe": _patient("patient.prescribe", "Jesse", "Prescribe", "1979-02-14", "CA", "America/Los_Angeles",
                          "+14155550146", "San Francisco", "94103"),
    "ready": _patient("patient.ready", "Avery", "Ready", "1990-09-09", "AZ", "America/Phoenix", "+16025550147",
                      "Phoenix", "85004"),
    "treatment": _patient("patient.treatment", "Quinn", "Treatment", "1985-05-30", "IL", "America/Chicago",
                          "+13125550148", "Chicago", "60601"),
}


def screening_answers(spec: dict | None = None, *, phq9: int = 16, gad7: int = 12, trials: int = 2) -> dict:
    """A screening with the given PHQ-9 and GAD-7 totals (item 9 always 0) and `trials` adequate
    antidepressant trials (two or more: a likely candidate; fewer: needs clinician review)."""
    spec = spec or DEMO_PATIENT
    drugs = ("sertraline", "bupropion", "venlafaxine")
    return {
        "phq9": _items("phq9", phq9),
        "gad7": _items("gad7", gad7),
        "cssrs": {"q1": False, "q2": False, "q6": False},
        "treatment_history": {"antidepressant_trials": [
            {"name": name, "weeks": 8 + i, "adequate_dose": True} for i, name in enumerate(drugs[:trials])],
            "therapy_tried": True},
        "medical": {"date_of_birth": spec["date_of_birth"], "state_of_residence": spec["state_of_residence"],
                    "pregnant_or_breastfeeding": False, "psychosis_history": False,
                    "mania_or_bipolar_history": False, "active_substance_use_disorder": False,
                    "hypertension": "none", "blood_pressure": {"systolic": 122, "diastolic": 78},
                    "vascular_history": [], "raised_intracranial_pressure": False, "heart_disease": "none",
                    "liver_disease": False, "bladder_symptoms": False, "current_medications": ["ssri_snri"]},
    }


def demo_screening_answers() -> dict:
    """A likely candidate: moderate-to-severe depression, two adequate antidepressant trials."""
    return screening_answers()


def _items(instrument: str, total: int) -> dict:
    """Answers adding up to `total`, spread evenly (PHQ-9's item 9, self-harm, stays 0)."""
    scored = 8 if instrument == "phq9" else 7
    values = [total // scored + (1 if i < total % scored else 0) for i in range(scored)]
    answers = {f"q{i + 1}": v for i, v in enumerate(values)}
    return answers | ({"q9": 0} if instrument == "phq9" else {})


# ------------------------------------------------------------------ the seed


def seed_demo() -> list[Login]:
    """Create what is missing (staff, their hours, the catalog, each stage's patient); the logins."""
    rows = []
    for spec in demo_staff():
        user = accounts.find_by_email(spec["email"])
        if user is None:
            user = staff.create_staff(None, StaffCreateIn.model_validate(spec), password=DEMO_PASSWORD)
        hours = PHYSICIAN_HOURS if user.role is Role.PHYSICIAN else COACH_HOURS
        if user.role in (Role.PHYSICIAN, Role.COACH) and not scheduling.windows_of(user.id):
            scheduling.set_weekly_windows(user, hours)
        if spec["email"].split("@")[0] in DEMO_ENROLLED:
            _enrolled_before(user)
        rows.append(Login(spec["role"], spec["email"], DEMO_PASSWORD, _staff_note(user, hours)))
    catalog.seed_catalog()
    on_call.seed_on_call_rota(days=14)  # someone is always on call in the demo
    for stage, make, note in STAGES:
        spec = PATIENTS[stage]
        patient = accounts.find_by_email(spec["email"])
        if patient is None:
            patient = _sign_up(spec)
            make(patient)
        elif stage == "consult":
            _book_consult_now_if_stale(patient)
        elif stage == "prescribe":
            _follow_up_now_if_stale(patient)
        rows.append(Login("patient", spec["email"], DEMO_PASSWORD, f"{spec['state_of_residence']}: {note(patient)}"))
    _coach_day()
    return rows


def _enrolled_before(user: User) -> None:
    """Stage data: a second factor this person enrolled before the demo began, with the published
    demo secret (enrolment itself, with its first code, is what Dr. Adams does on the page)."""
    if db.session.get(StaffTwoFactor, user.id) is None:
        db.session.add(StaffTwoFactor(user_id=user.id, secret=DEMO_TOTP_SECRET, confirmed_at=now(),
                                      failed_attempts=0))
        audit.record(user, "enrol", "second_factor", user.id)
        db.session.commit()


def _staff_note(user: User, hours: list[tuple[int, time, time]]) -> str:
    if user.role is Role.PHYSICIAN:
        states = ", ".join(sorted(lic.state for lic in user.physician_profile.licenses))
        return f"licensed in {states}; {_hours_text(hours)} {user.time_zone}"
    if user.role is Role.COACH:
        return f"{_hours_text(hours)} {user.time_zone}"
    return ""


def _hours_text(hours: list[tuple[int, time, time]]) -> str:
    evenings = "/".join(DAY_NAMES[d] for d, start, _ in hours if start.hour >= 17)
    return f"hours Mon-Fri 9-17, {evenings} 17-20"


def _sign_up(spec: dict) -> User:
    return accounts.sign_up_patient(PatientSignupIn.model_validate(spec))


def _by_email(local: str) -> User:
    return accounts.find_by_email(f"{local}@{DOMAIN}")


def _admin() -> User:
    return _by_email("admin")


def _ago(days: float, hour: int = 15) -> datetime:
    """`days` ago at `hour`:00 UTC (mid-morning in the continental US), never later than now."""
    moment = now() - timedelta(days=days)
    return min(moment.replace(hour=hour, minute=0, second=0, microsecond=0), now() - timedelta(minutes=5))


def _next_weekday_at(zone: str, hour: int, *, after: datetime) -> datetime:
    """The first weekday `hour`:00 in `zone` later than `after`."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    while True:
        moment = datetime.combine(day, time(hour), tz).astimezone(UTC)
        if day.weekday() < 5 and moment > after:
            return moment
        day += timedelta(days=1)


# ------------------------------------------------------------------ building blocks


def _screened(patient: User, at: datetime, *, reviewer: User | None, phq9: int = 16, gad7: int = 12,
              trials: int = 2) -> Assessment:
    """A screening submitted at `at` (through the service, then dated), approved 5 hours later by
    `reviewer` when given."""
    spec = next(s for s in PATIENTS.values() if s["email"] == patient.email)
    assessment, _ = assessments.submit(patient, "screening", 1, screening_answers(spec, phq9=phq9, gad7=gad7,
                                                                                  trials=trials))
    if reviewer is not None:
        reviews.decide(reviewer, assessment.id, Decision.APPROVE, message=None, note="Demo approval.")
    if at < now() - timedelta(hours=6):
        assessment.created_at = assessment.updated_at = assessment.submitted_at = assessment.claimed_at = at
        assessment.review_due_at = at + timedelta(hours=current_policy().review_sla_hours)
        if reviewer is not None:
            assessment.first_reviewed_at = at + timedelta(hours=5)
            for decision in assessment.decisions:
                decision.at = at + timedelta(hours=5)
        for measure in db.session.scalars(select(Measure).where(Measure.assessment_id == assessment.id)):
            measure.taken_at = at
        patient.created_at = at - timedelta(minutes=20)
        db.session.commit()
    return assessment


def _paid(patient: User, code: str, at: datetime) -> Order:
    """A package paid at `at`: its credits granted as Stripe's payment webhook grants them."""
    product = catalog.get_product(code)
    order = Order(patient_id=patient.id, product_id=product.id, amount_cents=product.price_cents,
                  currency=product.currency, grants=dict(product.grants), status=OrderStatus.PENDING, created_at=at)
    db.session.add(order)
    db.session.flush()
    order.mark_paid(at)
    stripe_events.grant_for(order, period_key=f"order:{order.id}")
    audit.record(patient, "create", "order", order.id, patient_id=patient.id)
    db.session.commit()
    return order


def _appointment(patient: User, provider: User, type_code: str, starts_at: datetime) -> Appointment:
    """A booking as `scheduling.book` writes it (buffers, its own video room, the credit debited,
    reminders still ahead), without the slot search's notice and horizon: seed data may be booked
    for a few minutes from now, or in the past."""
    kind = scheduling.appointment_type(type_code)
    buffer = timedelta(minutes=current_app.config["APPOINTMENT_BUFFER_MINUTES"])
    ends_at = starts_at + timedelta(minutes=kind.minutes)
    appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type=kind.code,
                              starts_at=starts_at, ends_at=ends_at, blocks_from=starts_at - buffer,
                              blocks_until=ends_at + buffer, credit_kind=kind.credit.value,
                              video_room=f"appt-{secrets.token_hex(12)}", status=AppointmentStatus.BOOKED,
                              created_at=min(now(), starts_at - timedelta(days=2)))
    db.session.add(appointment)
    db.session.flush()
    ledger.debit(patient.id, kind.credit, key=f"appointment:{appointment.id}", note=kind.name)
    for lead, before in scheduling.REMINDER_LEADS:
        if starts_at - before > now():
            db.session.add(Reminder(appointment_id=appointment.id, lead=lead, due_at=starts_at - before))
    audit.record(patient, "create", "appointment", appointment.id, patient_id=patient.id)
    db.session.commit()
    return appointment


def _held(patient: User, provider: User, type_code: str, starts_at: datetime, notes: str) -> Appointment:
    """An appointment held over video and recorded by its provider (the service's `complete`)."""
    appointment = _appointment(patient, provider, type_code, starts_at)
    return scheduling.complete(provider, appointment.id, started_at=starts_at + timedelta(minutes=1),
                               ended_at=appointment.ends_at - timedelta(minutes=2), notes=notes)


def _on_care_team(patient: User, *providers: User) -> None:
    for provider in providers:
        care_team.assign(_admin(), patient.id, provider.id)


def _prescribed(physician: User, patient: User, at: datetime) -> Prescription:
    """A prescription signed at `at`, as `prescriptions.sign` writes one, after the same checks.

    Stage data, not a signing: the history is written in the past, and a second factor cannot be
    entered for a signing that happened days ago (a TOTP code is good for 30 seconds, the one moment
    it was typed). So this writes the row the signing wrote, with the same precondition checks, and
    no code; every signing made now, by the demo's people, goes through `prescriptions.sign` with a
    fresh code."""
    problems, encounter = prescriptions.refusals(physician, patient, today_in(patient.time_zone))
    if problems:
        raise RuntimeError("the demo prescription would be refused: " + " ".join(problems))
    state = patient.patient_profile.state_of_residence
    license_ = physician.physician_profile.license_for(state, today_in(patient.time_zone))
    rx = Prescription(patient_id=patient.id, physician_id=physician.id, medication="ketamine",
                      form=DosageForm.SUBLINGUAL_TABLET, strength_mg=100, dose_per_session_mg=200, sessions=6,
                      refills=0, directions="Dissolve two 100 mg tablets under the tongue at the start of the "
                                           "session; do not swallow for 15 minutes.",
                      diagnosis_code="F33.2", signed_at=at,
                      refills_until=prescriptions.add_months(at.date(), prescriptions.REFILL_WINDOW_MONTHS),
                      encounter_appointment_id=encounter.id, license_state=license_.state,
                      license_number=license_.license_number, dea_number=physician.physician_profile.dea_number)
    db.session.add(rx)
    db.session.flush()
    audit.record(physician, "create", "prescription", rx.id, patient_id=patient.id)
    db.session.commit()
    return rx


PHARMACY_STEPS = ((ShipmentStatus.SENT_TO_PHARMACY, 0), (ShipmentStatus.RECEIVED, 1), (ShipmentStatus.FILLED, 20),
                  (ShipmentStatus.SHIPPED, 26), (ShipmentStatus.OUT_FOR_DELIVERY, 68), (ShipmentStatus.DELIVERED, 74))


def _delivered(physician: User, rx: Prescription, sessions: int, sent_at: datetime) -> Shipment:
    """A stage sent at `sent_at` and delivered three days later, each step as the pharmacy reported
    it (the patient's texts about it went out then: none is left to send)."""
    patient = db.session.get(User, rx.patient_id)
    stage = 1 + len(db.session.scalars(select(Shipment.id).where(Shipment.prescription_id == rx.id)).all())
    ship_by, deliver_by = deadlines(sent_at)
    shipment = Shipment(prescription_id=rx.id, patient_id=patient.id, stage=stage, sessions=sessions,
                        shipping_address=patient.patient_profile.shipping_address, ship_by=ship_by,
                        deliver_by=deliver_by, created_at=sent_at, send_attempts=1, status=ShipmentStatus.CREATED,
                        pharmacy_reference=f"stage-{uuid.uuid4().hex}")
    shipment.pharmacy_order_id = f"demo-{shipment.pharmacy_reference}"  # an order the local pharmacy never had
    db.session.add(shipment)
    db.session.flush()
    for n in range(1, sessions + 1):
        ledger.debit(patient.id, CreditKind.MEDICATION_SESSION, key=f"shipment:{shipment.id}:{n}",
                     note="Medication for one session")
    for status, hours in PHARMACY_STEPS:
        details = {"carrier": "UPS", "tracking_number": f"1ZDEMO{shipment.id:010d}"} \
            if status is ShipmentStatus.SHIPPED else {"signature_name": patient.patient_profile.legal_first_name}
        shipment.apply(status, sent_at + timedelta(hours=hours), source="pharmacy", details=details)
    for notice in shipment.notices:
        notice.status = "sent"
    audit.record(physician, "create", "shipment", shipment.id, patient_id=patient.id)
    db.session.commit()
    return shipment


def _session_taken(patient: User, rx: Prescription, number: int, at: datetime, mood: tuple[int, int, int]
                   ) -> HomeSession:
    """A session taken at `at`: scheduled, sitter confirmed, a go reading, started behind gates that
    all held (checked), completed, its three check-ins answered (mood before, after, next day)."""
    policy = current_policy()
    session = HomeSession(patient_id=patient.id, prescription_id=rx.id, number=number, scheduled_for=at,
                          sitter_name=f"Jamie {patient.patient_profile.legal_last_name}",
                          sitter_phone="+12125550188", sitter_confirmed_at=at - timedelta(minutes=15),
                          created_at=at - timedelta(days=2), status=SessionStatus.SCHEDULED)
    db.session.add(session)
    db.session.flush()
    db.session.add(BloodPressureReading(patient_id=patient.id, session_id=session.id, systolic=124, diastolic=79,
                                        taken_at=at - timedelta(minutes=20), source=BpSource.APP,
                                        band=bp_band(124, 79)))
    db.session.flush()
    gates = evaluate_gates(patient, session, at)
    failing = [g.id for g in gates if not g.ok]
    if failing:
        raise RuntimeError(f"demo session {number} would not pass its gates: {failing}")
    session.start(at, [g.as_dict() for g in gates])
    times = {CheckInKind.PRE: at - timedelta(minutes=policy.pre_check_in_minutes_before),
             CheckInKind.POST: at + timedelta(hours=policy.post_check_in_hours_after),
             CheckInKind.NEXT_DAY: at + timedelta(hours=policy.next_day_check_in_hours_after)}
    answers = {CheckInKind.PRE: {"mood": mood[0]},
               CheckInKind.POST: {"mood": mood[1], "side_effects": ["mild nausea"] if number == 1 else []},
               CheckInKind.NEXT_DAY: {"mood": mood[2], "sleep_quality": 7, "side_effects": []}}
    for kind, due in times.items():
        check_in = CheckIn(kind=kind, due_at=due, status=CheckInStatus.PENDING)
        session.check_ins.append(check_in)
        graded = [{"name": n, "grade": g.value, "listed": known}
                  for n, g, known in home_sessions.grade_side_effects(answers[kind].get("side_effects", []))]
        check_in.answer(answers[kind] | {"graded": graded}, due + timedelta(minutes=12))
    session.complete(at + timedelta(hours=2))
    audit.record(patient, "create", "home_session", session.id, patient_id=patient.id)
    db.session.commit()
    return session


def _measured(patient: User, instrument: str, total: int, at: datetime) -> Measure:
    section = _items(instrument, total)
    score = getattr(scoring, instrument)(section)
    measure = Measure(patient_id=patient.id, instrument=instrument, questionnaire_version=1, answers=section,
                      total=score.total, band=score.band, taken_at=at, source="retake")
    db.session.add(measure)
    db.session.commit()
    return measure


# ------------------------------------------------------------------ the stages


def _awaiting_review(patient: User) -> None:
    # one adequate antidepressant trial: "needs clinician review", the case a physician must weigh
    _screened(patient, now(), reviewer=None, phq9=15, gad7=11, trials=1)


def _approved(patient: User) -> None:
    _screened(patient, now(), reviewer=_by_email("dr.brooks"))


def _consult_soon(patient: User) -> None:
    _screened(patient, _ago(3), reviewer=_by_email("dr.brooks"))
    _paid(patient, "starter", _ago(2))
    _book_consult_now(patient)


def _book_consult_now(patient: User) -> Appointment:
    """The consult began at the last 5-minute boundary (0 to 5 minutes ago) and runs 30 minutes: its
    video room is open and an encounter can be recorded at once. Booked as `scheduling.book` would,
    its physician joins the care team (`care_team.join_by_booking`)."""
    moment = now()
    starts_at = (moment - timedelta(minutes=moment.minute % 5)).replace(second=0, microsecond=0)
    physician = _by_email("dr.brooks")
    appointment = _appointment(patient, physician, "consult", starts_at)
    care_team.join_by_booking(patient, physician)
    db.session.commit()
    return appointment


def _rebook_now_if_stale(patient: User, kind: str, credit: CreditKind, book, *, only_if_seeded: bool) -> None:
    """A later `make run`: the appointment of `kind` seeded "for now" long ago went unheld; release it
    (its credit given back, as when a provider cancels) and book it again for now with `book`, unless
    one was held (the story moved on). `only_if_seeded`: nothing to do when none was ever booked."""
    mine = list(db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id,
                                                             Appointment.appointment_type == kind)))
    if only_if_seeded and not mine:
        return
    closes = timedelta(minutes=current_app.config["VIDEO_CLOSES_MINUTES_AFTER"])
    if any(a.status is AppointmentStatus.COMPLETED or (a.status is AppointmentStatus.BOOKED
                                                       and a.ends_at + closes > now()) for a in mine):
        return
    for stale in (a for a in mine if a.status is AppointmentStatus.BOOKED):
        stale.cancel(stale.provider_id, now(), late=False)
        ledger.restore(patient.id, CreditKind(stale.credit_kind), key=f"appointment:{stale.id}:restore",
                       note=f"Demo {kind.replace('_', '-')} moved to now")
    if ledger.balances(patient.id)[credit] > 0:
        book(patient)


def _book_consult_now_if_stale(patient: User) -> None:
    _rebook_now_if_stale(patient, "consult", CreditKind.CONSULT, _book_consult_now, only_if_seeded=False)


def _consulted(patient: User) -> None:
    physician = _by_email("dr.adams")
    _screened(patient, _ago(5), reviewer=physician)
    _paid(patient, "starter", _ago(4))
    _on_care_team(patient, physician)
    _held(patient, physician, "consult", _ago(1, hour=17), "Video consult held: candidate for treatment; "
                                                               "discussed risks, sitter and blood-pressure plan.")
    _adams_day(patient)


def _prescribed_and_delivered(patient: User) -> None:
    physician, coach = _by_email("dr.chen"), _by_email("coach.rivera")
    _screened(patient, _ago(12), reviewer=physician, phq9=18, gad7=13)
    _paid(patient, "starter", _ago(11))
    _paid(patient, "three_month", _ago(11))
    _on_care_team(patient, physician, coach)
    _held(patient, physician, "consult", _ago(8, hour=17), "Video consult held; plan: sublingual ketamine.")
    rx = _prescribed(physician, patient, _ago(8, hour=18))
    _delivered(physician, rx, 3, _ago(7))
    _appointment(patient, coach, "coaching_30", _next_weekday_at(coach.time_zone, 11, after=now() + timedelta(hours=20)))


def _in_treatment(patient: User) -> None:
    """Day by day over two months: screened (PHQ-9 20), consult, prescription, a retake before the
    first session (19, the baseline), five sessions in two stages with a physician's review between
    them, a follow-up, and retakes falling to 7: a response (a drop of 50 % or more), not yet remission."""
    physician, coach = _by_email("dr.chen"), _by_email("coach.lee")
    _screened(patient, _ago(62), reviewer=physician, phq9=20, gad7=15)
    _paid(patient, "starter", _ago(61))
    _paid(patient, "three_month", _ago(61))
    _on_care_team(patient, physician, coach)
    _held(patient, physician, "consult", _ago(58, hour=17), "Video consult held; plan: sublingual ketamine.")
    rx = _prescribed(physician, patient, _ago(58, hour=18))
    first = _delivered(physician, rx, 3, _ago(57))
    _measured(patient, "phq9", 19, _ago(52))
    _measured(patient, "gad7", 14, _ago(52))
    for number, days, mood in ((1, 51, (4, 5, 5)), (2, 47, (5, 6, 6)), (3, 43, (5, 7, 6))):
        _session_taken(patient, rx, number, _ago(days, hour=23), mood)
    coaching = _held(patient, coach, "coaching_30", _ago(45, hour=16), "Integration session after session 1.")
    db.session.add(CoachingNote(appointment_id=coaching.id, patient_id=patient.id, coach_id=coach.id,
                                private_note="Processed the first session; grounding practice agreed.",
                                patient_summary="We talked about your first session and a grounding practice.",
                                created_at=coaching.ends_at, updated_at=coaching.ends_at))
    first.sessions_completed_at = _ago(42)
    first.next_stage_released_at, first.next_stage_released_by = _ago(41), physician.id
    db.session.commit()
    _measured(patient, "phq9", 13, _ago(40))
    _measured(patient, "gad7", 10, _ago(40))
    _delivered(physician, rx, 3, _ago(40))
    for number, days, mood in ((4, 36, (6, 7, 7)), (5, 31, (6, 8, 7))):
        _session_taken(patient, rx, number, _ago(days, hour=23), mood)
    _measured(patient, "phq9", 9, _ago(30))
    _measured(patient, "gad7", 7, _ago(30))
    # a month ago: the next follow-up is due now (follow_up_interval_days), on the physician's work list
    _held(patient, physician, "follow_up", _ago(29), "Follow-up: good response, continue the series.")
    _measured(patient, "phq9", 7, _ago(6))
    _measured(patient, "gad7", 6, _ago(6))
    # a session the coach has still to write up, and the next one booked
    _paid(patient, "coaching_30", _ago(9))
    _held(patient, coach, "coaching_30", _ago(3, hour=16), "Integration session.")
    _paid(patient, "coaching_60", _ago(2))
    _appointment(patient, coach, "coaching_60", _next_weekday_at(coach.time_zone, 10, after=now() + timedelta(hours=20)))


# ------------------------------------------------------------------ Dr. Adams's day (her Today page)

CRISIS_TEXT = "I can't do this anymore. I keep thinking I'd be better off not waking up."
SAFE_TEXT = "I'm safe. My sister is here with me now and I'll stay at hers tonight."


def _adams_day(patient: User) -> None:
    """Something real on Dr. Adams's Today page (patient.prescribe@ is her patient): the 3-month
    program bought after the consult; a follow-up booked for now (its video open at once: "Join",
    and "Follow-up booked soon" on her work list); 25 minutes ago a text with crisis language and
    the urgent alert it raised (paged as the ladder pages, the 988 reply sent), not acknowledged;
    and 11 minutes ago the patient's reply saying they are safe, which the alert shows as what
    happened since it was raised. (patient.review@'s screening waits in her review queue.)"""
    _paid(patient, "three_month", _ago(1, hour=18))
    _book_follow_up_now(patient)
    _crisis_text_and_reply(patient, now() - timedelta(minutes=25), now() - timedelta(minutes=11))


def _book_follow_up_now(patient: User) -> Appointment:
    """A 20-minute follow-up with Dr. Adams starting 5 to 10 minutes from now (the next 5-minute
    boundary after 5 minutes): its room is open already (it opens 10 minutes before)."""
    moment = (now() + timedelta(minutes=10)).replace(second=0, microsecond=0)
    starts_at = moment - timedelta(minutes=moment.minute % 5)
    return _appointment(patient, _by_email("dr.adams"), "follow_up", starts_at)


def _follow_up_now_if_stale(patient: User) -> None:
    _rebook_now_if_stale(patient, "follow_up", CreditKind.FOLLOW_UP, _book_follow_up_now, only_if_seeded=True)


def _crisis_text_and_reply(patient: User, at: datetime, replied_at: datetime) -> ClinicalAlert:
    """A text with crisis language at `at`, as the SMS webhook records it (check_in_messages.answer_crisis):
    the 988 reply sent, an urgent alert paged to round 0 of the ladder (`notifications.page_targets`:
    whoever was on call, else every physician), not acknowledged; then the patient's own reply."""
    phone = patient.patient_profile.phone_e164
    sid = f"SMdemo{uuid.uuid4().hex}"
    db.session.add(InboundMessage(message_sid=sid, from_phone=phone, body=CRISIS_TEXT, received_at=at,
                                  user_id=patient.id, handled_as="crisis"))
    db.session.add(OutboundMessage(to_phone=phone, body=CRISIS_REPLY, purpose="crisis_reply",
                                   priority=MessagePriority.CRISIS, patient_id=patient.id, not_before=at,
                                   status=MessageStatus.SENT, attempts=1, dedupe_key=f"crisis_reply:{sid}",
                                   created_at=at, sent_at=at + timedelta(seconds=2)))
    intents = ", ".join(i.replace("_", " ") for i in crisis_language.crisis_intents(CRISIS_TEXT)) or "unclear"
    alert = ClinicalAlert(kind="crisis", urgency="urgent", recipient="on_call_physician", patient_id=patient.id,
                          summary=f"Crisis language ({intents}) in a text from a patient: {CRISIS_TEXT}",
                          created_at=at, status=AlertStatus.DELIVERED, delivered_at=at, page_rounds=1,
                          last_paged_at=at)
    db.session.add(alert)
    db.session.flush()
    for target in notifications.page_targets(alert, 0, at):
        db.session.add(AlertPage(alert_id=alert.id, round=0, user_id=target.user_id, phone_e164=target.phone,
                                 reason=target.reason, paged_at=at))
        db.session.add(OutboundMessage(to_phone=target.phone, body=notifications.alert_text(alert), purpose="alert",
                                       priority=MessagePriority.STAFF, not_before=at, status=MessageStatus.SENT,
                                       attempts=1, dedupe_key=f"alert:{alert.id}:page:0:{target.phone}",
                                       created_at=at, sent_at=at + timedelta(seconds=3)))
    db.session.add(InboundMessage(message_sid=f"SMdemo{uuid.uuid4().hex}", from_phone=phone, body=SAFE_TEXT,
                                  received_at=replied_at, user_id=patient.id, handled_as="reply"))
    audit.record(None, "create", "clinical_alert", alert.id, patient_id=patient.id)
    db.session.commit()
    return alert


def _consult_note(patient: User) -> str:
    consult = db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.appointment_type == "consult")
        .order_by(Appointment.id.desc()).limit(1))
    if consult is None:
        return "paid; no consult credit left"
    doctor = db.session.get(User, consult.provider_id)
    if consult.status is AppointmentStatus.COMPLETED:
        return f"paid; the consult with {doctor.display_name} was held"
    cfg = current_app.config
    opens = consult.starts_at - timedelta(minutes=cfg["VIDEO_OPENS_MINUTES_BEFORE"])
    closes = consult.ends_at + timedelta(minutes=cfg["VIDEO_CLOSES_MINUTES_AFTER"])
    return (f"paid; consult with {doctor.display_name} at {in_zone(consult.starts_at, doctor.time_zone):%H:%M %Z}"
            f" ({consult.starts_at:%H:%M} UTC): its video is open {opens:%H:%M}-{closes:%H:%M} UTC")


STAGES = (
    ("review", _awaiting_review, lambda p: "screened: waiting for a physician's review (any physician's queue)"),
    ("approved", _approved, lambda p: "screening approved, nothing bought: buy a package, book a consult"),
    ("consult", _consult_soon, _consult_note),
    ("prescribe", _consulted, lambda p: "consult held (recorded video) with Dr. Maya Adams: awaiting a "
                                        "prescription; a follow-up with her now, and an urgent alert from a "
                                        "text, answered since, for her to acknowledge (her Today page)"),
    ("ready", _prescribed_and_delivered, lambda p: "prescribed, medication delivered: schedule a first session "
                                                   "(sitter, blood pressure); coaching booked with Alex Rivera"),
    ("treatment", _in_treatment, lambda p: "5 sessions, PHQ-9 19 -> 7 (a response), a follow-up due with Dr. "
                                           "Priya Chen; coaching with Jordan Lee (a note to write)"),
)


# ------------------------------------------------------------------ the coach's day (issue 15)

SHARED_ENTRY = ("After session 5 I sat in the garden for a long time and watched the light change. The next evening "
                "the old tightness came back a little, but I could name it and breathe with it. I would like to talk "
                "about that next time.")
PRIVATE_ENTRY = "Just for me: I am not ready to share what came up about my father yet."


def _coach_day() -> None:
    """Jordan Lee (`coach.lee@`) has a day to work at every `make run`: with `patient.treatment@`, a
    coaching session that ended earlier today (held, its note to write) and one later today, both
    in the coach's zone; and the patient's journal holds an entry shared with the coach (and one
    kept private). Checked at each seed: a run on another day books that day's sessions."""
    coach = _by_email("coach.lee")
    patient = accounts.find_by_email(PATIENTS["treatment"]["email"])
    if coach is None or patient is None:
        return
    _journal_entries(patient)
    zone = coach.time_zone
    day_start, day_end = day_bounds(today_in(zone), today_in(zone), zone)
    today = list(db.session.scalars(select(Appointment).where(
        Appointment.provider_id == coach.id, Appointment.patient_id == patient.id,
        Appointment.appointment_type.in_(scheduling.COACHING_TYPES), Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at >= day_start, Appointment.starts_at < day_end)))
    moment = now()
    boundary = (moment - timedelta(minutes=moment.minute % 5)).replace(second=0, microsecond=0)
    busy = [(a.blocks_from, a.blocks_until) for a in db.session.scalars(select(Appointment).where(
        Appointment.provider_id == coach.id, Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.blocks_until > day_start - timedelta(hours=2), Appointment.blocks_from < day_end + timedelta(hours=2)))]

    def free(start: datetime) -> bool:
        # the coach's other appointments (the stage patients' own coaching) keep their times: a run
        # on a later day moves these two around them, as the database's exclusion constraint requires
        return not any(start - timedelta(minutes=15) < until and frm < start + timedelta(minutes=45)
                       for frm, until in busy)

    if not any(a.ends_at <= moment for a in today):
        # 30 minutes that ended 15 minutes ago (from midnight on, in the first minutes of a day),
        # or earlier that day when the coach was busy then
        earlier = max(boundary - timedelta(minutes=45), day_start)
        while not free(earlier) and earlier - timedelta(minutes=30) >= day_start:
            earlier -= timedelta(minutes=30)
        if free(earlier):
            _paid(patient, "coaching_30", moment - timedelta(minutes=1))
            if earlier + timedelta(minutes=28) <= moment:
                _held(patient, coach, "coaching_30", earlier, "Integration session.")
            else:
                _appointment(patient, coach, "coaching_30", earlier)
            busy.append((earlier - timedelta(minutes=15), earlier + timedelta(minutes=45)))
    if not any(a.starts_at > moment for a in today):
        # two hours on, or the day's last half hour when the evening is late (past midnight at 23:00+),
        # or the next free half hour after it
        later = min(boundary + timedelta(hours=2), day_end - timedelta(minutes=35))
        if later < moment + timedelta(minutes=40):
            later = boundary + timedelta(minutes=45)
        for _ in range(12):
            if free(later):
                _paid(patient, "coaching_30", moment - timedelta(minutes=1))
                _appointment(patient, coach, "coaching_30", later)
                break
            later += timedelta(minutes=30)


def _journal_entries(patient: User) -> None:
    """One entry shared with the coach (about the fifth session) and one kept private, once."""
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.patient_id == patient.id).limit(1)):
        return
    fifth = db.session.scalar(select(HomeSession).where(HomeSession.patient_id == patient.id,
                                                        HomeSession.number == 5))
    shared = journal.write(patient, SHARED_ENTRY, session_id=fifth.id if fifth else None).entry
    journal.share(patient, shared.id)
    written = (fifth.scheduled_for if fifth else now()) + timedelta(days=1)
    shared.created_at = shared.updated_at = min(written, now())
    journal.write(patient, PRIVATE_ENTRY)
    db.session.commit()

"""At-home sessions: scheduling, the blood pressure and sitter before, starting behind the gates
(`session_gates.py`), completing, and check-ins with graded side effects (a serious one pauses
treatment); the physician's side (overview, clearing adverse events, pausing and resuming) is
`treatment_oversight.py`.

Called by the API and by the SMS side (which parses texts into these same calls, with
source="sms"): `record_blood_pressure`, `confirm_sitter`, `record_check_in`, `open_check_ins`, and
the helpers at the end (what is due, withdrawing texts, escalating), which write in the caller's
transaction; prompting and re-prompting are the check-in's own `prompt` / `remind`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload

from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.platform.alerts import ClinicalAlert
from telehealth.models.care.care_notes import PatientTreatmentPhase, TreatmentPhase
from telehealth.models.home_care.home_sessions import (
    LIVE, OPEN_CHECK_IN, TAKEN, AdverseEvent, AdverseGrade, BloodPressureReading, BpBand, BpSource, CheckIn,
    CheckInKind, CheckInStatus, HomeSession, SessionStatus, TreatmentPause,
)
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.schemas.common import e164_phone
from telehealth.services.home_care import reply_parsing
from telehealth.services.messaging import notifications, outbox
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient
from telehealth.services.pharmacy.prescriptions import active_prescription, versions_of
from telehealth.services.home_care.session_gates import Gate, bp_band, evaluate_gates
from telehealth.services.screening import crisis, crisis_language

_INSTRUCTIONS = (
    "Before: take your blood pressure {when} and record it; have your sitter with you, and "
    "keep your phone charged and nearby. Do not eat for two hours before.\n"
    "During: stay seated or lying down in a safe, quiet place. Your sitter stays with you for the whole "
    "session and until the effects have fully worn off (usually 1 to 2 hours after they peak).\n"
    "After: do not drive, cycle or operate machinery until the next day, and make no important decisions "
    "today. Answer the check-in texts after the session and the next day.\n"
    "If you have chest pain, trouble breathing, fainting, a seizure, severe confusion or bleeding, your "
    "sitter should call 911 at once. For anything else that worries you, reply to our text or call the "
    "clinic: the on-call physician is reachable at any hour. If you are thinking about harming yourself, "
    "call or text 988."
)


def instructions(policy: ClinicalPolicy | None = None) -> str:
    """What the patient reads before, during and after a session; the reading is asked for within
    the policy's `bp_reading_valid_minutes` ("in the hour before" at the default 60)."""
    minutes = (policy or current_policy()).bp_reading_valid_minutes
    when = "in the hour before" if minutes == 60 else f"in the {minutes} minutes before"
    return _INSTRUCTIONS.format(when=when)


BP_ADVICE = {
    BpBand.GO: "Your blood pressure is in range for today's session.",
    BpBand.NO_GO: "Your blood pressure is too high for a session today. Do not take your medication today. "
                  "Your physician has been told and will be in touch; rest and try again another day.",
    BpBand.URGENT: "Your blood pressure is very high. Do not take your medication. Seek urgent care now: "
                   "call 911 or go to the nearest emergency department, especially if you have chest pain, "
                   "a severe headache, shortness of breath, weakness, or changes in vision or speech.",
}

SERIOUS_ADVICE = ("What you reported needs attention now. If it is happening now, your sitter should call 911. "
                  "The on-call physician has been alerted, and your treatment is paused until they review it.")
MODERATE_ADVICE = "Thank you. A physician will review what you reported; reply to our text if it gets worse."
ANSWERED_ADVICE = "Thank you for checking in."
# Crisis language in an answer, or words the table cannot read, or the lowest mood: the lines to call,
# with the crisis resources the screening shows (`crisis.RESOURCES`, in the answer's crisis_resources).
CRISIS_ADVICE = ("What you wrote worries us: a physician has been alerted and will contact you. If you are in "
                 "danger call 911. Call or text 988 (Suicide & Crisis Lifeline) or text HOME to 741741.")
CRISIS_LINE_ADVICE = " If you are in crisis, call or text 988; in an emergency call 911."

# What each kind of check-in asks (the answers' keys); mood and sleep are 1 to 10.
CHECK_IN_FIELDS = {
    CheckInKind.PRE: {"mood": True},
    CheckInKind.POST: {"mood": True, "side_effects": False},
    CheckInKind.NEXT_DAY: {"mood": True, "sleep_quality": True, "side_effects": False},
}
MAX_SIDE_EFFECTS = 20


# ------------------------------------------------------------------ helpers


def normalize_phone(value: str, field: str = "sitter_phone") -> str:
    """`schemas.common.e164_phone`, its refusal a 422 on `field`."""
    try:
        return e164_phone(value)
    except ValueError as exc:
        raise ValidationFailed("The phone number is not valid.", fields={field: [f"{exc}."]}) from None


def finish(commit: bool) -> None:
    """Commit, or (commit=False: a text being handled) only flush, so the SMS webhook commits the
    text received, its effects and the reply together: a crash between them loses none of it."""
    if commit:
        db.session.commit()
    else:
        db.session.flush()


def _session(actor: User, session_id: int, *, lock: bool = False) -> HomeSession:
    session = db.session.get(HomeSession, session_id, with_for_update=lock)
    if session is None:
        raise NotFound("No such session.")
    authorize_patient(actor, session.patient_id, Scope.CLINICAL, not_found="No such session.")
    return session


def lock_patient(patient_id: int) -> None:
    """One write at a time per patient: two starts (or bookings) must not both pass the 72-hour gate."""
    db.session.execute(select(User.id).where(User.id == patient_id).with_for_update())


def _alert(kind: str, urgency: str, patient_id: int, summary: str) -> ClinicalAlert:
    alert = ClinicalAlert(kind=kind, urgency=urgency, recipient="on_call_physician", patient_id=patient_id,
                          summary=summary)
    db.session.add(alert)
    return alert


def _check_in_times(anchor: datetime, *, started: bool) -> dict[CheckInKind, datetime]:
    policy = current_policy()
    times = {CheckInKind.POST: anchor + timedelta(hours=policy.post_check_in_hours_after),
             CheckInKind.NEXT_DAY: anchor + timedelta(hours=policy.next_day_check_in_hours_after)}
    if not started:
        times[CheckInKind.PRE] = anchor - timedelta(minutes=policy.pre_check_in_minutes_before)
    return times


# ------------------------------------------------------------------ the patient's sessions


def _schedulable(patient: User) -> tuple[Prescription, list[HomeSession]]:
    """The prescription a new session would come under and its sessions so far, or the Conflict
    saying why none can be scheduled (discharged, no active prescription, every session used)."""
    if PatientTreatmentPhase.phase_of(patient.id) is TreatmentPhase.DISCHARGED:
        raise Conflict("Your physician has ended this treatment, so no session can be scheduled; contact your "
                       "care team to talk about starting again.", code="discharged")
    rx = active_prescription(patient.id)
    if rx is None:
        raise Conflict("There is no active prescription to schedule a session under.", code="no_prescription")
    versions = versions_of(rx.lineage)
    live = list(db.session.scalars(select(HomeSession).where(HomeSession.prescription_id.in_(versions),
                                                             HomeSession.status.in_(LIVE))))
    allowed = rx.total_sessions
    if len(live) >= allowed:
        raise Conflict(f"Your prescription covers {allowed} sessions and all are used or scheduled.",
                       code="no_sessions_left")
    return rx, live


def scheduling_refusal(patient: User) -> Conflict | None:
    """Why the patient cannot schedule a session now (the refusal `schedule_session` would give
    before looking at the time asked for), or None: the portal says so before showing the form."""
    authorize_patient(patient, patient.id, Scope.CLINICAL)
    try:
        _schedulable(patient)
    except Conflict as exc:
        return exc
    return None


def schedule_session(patient: User, scheduled_for: datetime, sitter_name: str, sitter_phone: str) -> HomeSession:
    """A session within the active prescription, not in the past, at least the policy's interval
    from every other session; its pre, post and next-day check-ins are created with it."""
    authorize_patient(patient, patient.id, Scope.CLINICAL)
    policy = current_policy()
    errors: dict[str, list[str]] = {}
    if scheduled_for.tzinfo is None:
        raise ValidationFailed("Give the time with its offset.", fields={"scheduled_for": ["Include a UTC offset."]})
    moment = now()
    if scheduled_for <= moment:
        errors["scheduled_for"] = ["Must be in the future."]
    name = (sitter_name or "").strip()
    if not name or len(name) > 100:
        errors["sitter_name"] = ["Give your sitter's name (up to 100 characters)."]
    try:
        phone = normalize_phone(sitter_phone)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    lock_patient(patient.id)
    rx, live = _schedulable(patient)
    gap = timedelta(hours=policy.min_hours_between_sessions)
    others = db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient.id,
                                                          HomeSession.status.in_(LIVE)))
    if any(abs((s.started_at or s.scheduled_for) - scheduled_for) < gap for s in others):
        raise ValidationFailed("Sessions must be spaced out.", fields={"scheduled_for": [
            f"At least {policy.min_hours_between_sessions} hours from your other sessions."]})
    session = HomeSession(patient_id=patient.id, prescription_id=rx.id, number=len(live) + 1,
                          scheduled_for=scheduled_for, status=SessionStatus.SCHEDULED, sitter_name=name,
                          sitter_phone=phone)
    for kind, due in _check_in_times(scheduled_for, started=False).items():
        session.check_ins.append(CheckIn(kind=kind, due_at=due, status=CheckInStatus.PENDING))
    db.session.add(session)
    db.session.flush()
    audit.record(patient, "create", "home_session", session.id, patient_id=patient.id)
    db.session.commit()
    return session


def list_sessions(actor: User, patient_id: int) -> list[HomeSession]:
    """Every session of the patient, newest first (the patient, their physicians; audited)."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    rows = list(db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient_id)
                                   .options(selectinload(HomeSession.check_ins))  # the list shows what waits
                                   .order_by(HomeSession.scheduled_for.desc(), HomeSession.id.desc())))
    audit.record(actor, "read", "home_sessions", patient_id, patient_id=patient_id)
    db.session.commit()
    return rows


def session_detail(actor: User, session_id: int) -> tuple[HomeSession, list[Gate], list[BloodPressureReading]]:
    """A session with its gates (as they stand now while it is scheduled; as they stood at the
    start afterwards) and its blood-pressure readings; audited."""
    session = _session(actor, session_id)
    if session.status is SessionStatus.SCHEDULED:
        patient = db.session.get(User, session.patient_id)
        gates = evaluate_gates(patient, session, now())
    else:
        gates = [Gate(**g) for g in session.gate_results or []]
    readings = list(db.session.scalars(select(BloodPressureReading).where(
        BloodPressureReading.session_id == session.id).order_by(BloodPressureReading.taken_at)))
    audit.record(actor, "read", "home_session", session.id, patient_id=session.patient_id)
    db.session.commit()
    return session, gates, readings


def record_blood_pressure(patient: User, session_id: int | None, systolic: int, diastolic: int,
                          source: str = "app", *, commit: bool = True) -> tuple[BloodPressureReading, BpBand, str]:
    """Keep a reading and judge it: go, no-go today (the physician is told: a routine alert) or
    urgent (urgent-care advice and an urgent alert). Returns the reading, its band and the advice."""
    errors: dict[str, list[str]] = {}
    if isinstance(systolic, bool) or not isinstance(systolic, int) or not 50 <= systolic <= 300:
        errors["systolic"] = ["A whole number from 50 to 300."]
    if isinstance(diastolic, bool) or not isinstance(diastolic, int) or not 30 <= diastolic <= 200:
        errors["diastolic"] = ["A whole number from 30 to 200."]
    if not errors and systolic <= diastolic:
        # 80/120 is almost surely 120/80 typed the other way round: judged as it stands it would be
        # "urgent" (911 advice, no session today). Ask again, as the text reply's parser does.
        errors["systolic"] = ["The top number (systolic) is always the higher one: check the two are not swapped."]
    if source not in {s.value for s in BpSource}:
        errors["source"] = ["app or sms."]
    if errors:
        raise ValidationFailed("The reading is not valid.", fields=errors)
    session = None
    if session_id is not None:
        session = _session(patient, session_id)
        if session.status is not SessionStatus.SCHEDULED:
            raise Conflict("A reading is recorded before a session starts.", code="session_state")
    else:
        authorize_patient(patient, patient.id, Scope.CLINICAL)
    band = bp_band(systolic, diastolic)
    reading = BloodPressureReading(patient_id=patient.id, session_id=session.id if session else None,
                                   systolic=systolic, diastolic=diastolic, taken_at=now(), source=BpSource(source),
                                   band=band)
    db.session.add(reading)
    if band is BpBand.NO_GO:
        _alert("bp_no_go", "routine", patient.id,
               f"Blood pressure {systolic}/{diastolic} before a session: no session today.")
    elif band is BpBand.URGENT:
        _alert("bp_urgent", "urgent", patient.id,
               f"Blood pressure {systolic}/{diastolic} before a session: told to seek urgent care.")
    db.session.flush()
    audit.record(patient, "create", "blood_pressure_reading", reading.id, patient_id=patient.id)
    finish(commit)
    return reading, band, BP_ADVICE[band]


def confirm_sitter(patient: User, session_id: int, name: str | None = None, phone: str | None = None, *,
                   commit: bool = True) -> HomeSession:
    """The sitter is with the patient (optionally a different person than planned)."""
    session = _session(patient, session_id, lock=True)
    if session.status is not SessionStatus.SCHEDULED:
        raise Conflict("The sitter is confirmed before a session starts.", code="session_state")
    changed = ["sitter_confirmed_at"]
    if name is not None:
        if not name.strip() or len(name.strip()) > 100:
            raise ValidationFailed("Give your sitter's name.", fields={"name": ["1 to 100 characters."]})
        session.sitter_name = name.strip()
        changed.append("sitter_name")
    if phone is not None:
        session.sitter_phone = normalize_phone(phone, "phone")
        changed.append("sitter_phone")
    session.sitter_confirmed_at = now()
    audit.record(patient, "update", "home_session", session.id, patient_id=patient.id, fields=changed)
    finish(commit)
    return session


class GatesFailed(Conflict):
    code = "gates_failed"


def start_session(patient: User, session_id: int) -> HomeSession:
    """Start only when every gate holds (else 409 naming each failing gate, nothing changed); the
    gates are kept as they stood, and the post and next-day check-ins are timed from the real start."""
    session = _session(patient, session_id)
    lock_patient(session.patient_id)
    db.session.refresh(session, with_for_update=True)
    if session.status is not SessionStatus.SCHEDULED:
        raise Conflict(f"This session is {session.status.value}.", code="session_state")
    moment = now()
    owner = db.session.get(User, session.patient_id)
    gates = evaluate_gates(owner, session, moment)
    failing = [g for g in gates if not g.ok]
    if failing:
        raise GatesFailed("The session cannot start yet: " + " ".join(g.reason for g in failing),
                          fields={g.id: [g.reason] for g in failing})
    session.start(moment, [g.as_dict() for g in gates])
    for kind, due in _check_in_times(moment, started=True).items():
        session.check_in(kind).due_at = due
    pre = session.check_in(CheckInKind.PRE)
    if pre is not None and pre.is_open:
        pre.expire()
        withdraw_texts(pre)  # a prompt not yet sent would ask about a session already under way
    audit.record(patient, "update", "home_session", session.id, patient_id=session.patient_id,
                 fields=["status", "started_at", "gate_results"])
    db.session.commit()
    return session


def complete_session(patient: User, session_id: int) -> HomeSession:
    session = _session(patient, session_id, lock=True)
    session.complete(now())
    _update_review_flags(session.prescription_id)
    audit.record(patient, "update", "home_session", session.id, patient_id=session.patient_id,
                 fields=["status", "completed_at"])
    db.session.commit()
    return session


def cancel_session(patient: User, session_id: int) -> HomeSession:
    session = _session(patient, session_id, lock=True)
    session.cancel(now())
    close_open_check_ins(session)
    audit.record(patient, "update", "home_session", session.id, patient_id=session.patient_id, fields=["status"])
    db.session.commit()
    return session


# ------------------------------------------------------------------ check-ins


def grade_side_effects(items: list[str]) -> list[tuple[str, AdverseGrade, bool]]:
    """Each reported side effect with its grade and whether the table knew it. One reviewed table
    grades the app's answers and SMS replies alike (`reply_parsing.SIDE_EFFECT_TABLE`); text it does
    not know is moderate, so a physician reads it."""
    graded = []
    for item in items:
        for effect in reply_parsing.grade_side_effects(item):
            listed = effect.name != "unrecognized"
            graded.append((effect.name if listed else item.strip(), AdverseGrade(effect.grade), listed))
    return graded


def _clean_answers(kind: CheckInKind, answers: dict) -> dict:
    wanted = CHECK_IN_FIELDS[kind]
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, dict):
        raise ValidationFailed("The answers are not valid.", fields={"answers": ["An object."]})
    for key in answers:
        if key not in wanted:
            errors[key] = ["Unknown field."] if key not in ("mood", "sleep_quality", "side_effects") else [
                f"Not asked in the {kind.value} check-in."]
    clean: dict = {}
    for key, required in wanted.items():
        value = answers.get(key)
        if value is None:
            if required:
                errors[key] = ["This field is required."]
            elif key == "side_effects":
                clean[key] = []
            continue
        if key == "side_effects":
            if (not isinstance(value, list) or len(value) > MAX_SIDE_EFFECTS
                    or not all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in value)):
                errors[key] = [f"A list of up to {MAX_SIDE_EFFECTS} short texts."]
            else:
                clean[key] = [v.strip() for v in value]
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            errors[key] = ["A whole number from 1 to 10."]
        else:
            clean[key] = value
    if errors:
        raise ValidationFailed("Some answers are missing or invalid.", fields=errors)
    return clean


def record_check_in(patient: User, answers: dict, *, check_in_id: int | None = None, session_id: int | None = None,
                    kind: str | None = None, source: str = "app", commit: bool = True) -> tuple[CheckIn, AdverseGrade | None, str]:
    """Answer a check-in (by its id, or by session and kind). Side effects are graded with
    `grade_side_effects`: a serious one opens an adverse event, a treatment pause and an urgent alert
    (and ends a session still under way); a moderate one an adverse event and a routine alert; all in
    one transaction. Returns the check-in, the worst grade reported (None: none) and the advice."""
    if check_in_id is not None:
        check_in = db.session.get(CheckIn, check_in_id)
        if check_in is None:
            raise NotFound("No such check-in.")
        session = _session(patient, check_in.session_id, lock=True)
        # locked too: an answer racing the scheduler's escalation is seen by one or the other
        check_in = db.session.get(CheckIn, check_in_id, with_for_update=True, populate_existing=True)
    else:
        try:
            wanted_kind = CheckInKind(kind)
        except ValueError:
            raise ValidationFailed("Unknown check-in.", fields={"kind": ["pre, post or next_day."]}) from None
        if session_id is None:
            raise NotFound("No such check-in.")
        session = _session(patient, session_id, lock=True)
        check_in = session.check_in(wanted_kind)
        if check_in is None:
            raise NotFound("No such check-in.")
        check_in = db.session.get(CheckIn, check_in.id, with_for_update=True, populate_existing=True)
    clean = _clean_answers(check_in.kind, answers)
    if check_in.kind is CheckInKind.PRE and session.status is not SessionStatus.SCHEDULED:
        raise Conflict("The check-in before a session closes when it starts.", code="check_in_state")
    if check_in.kind is not CheckInKind.PRE and session.status not in TAKEN:
        raise Conflict("This check-in opens once the session has started.", code="check_in_state")
    moment = now()
    graded = grade_side_effects(clean.get("side_effects", []))
    clean["graded"] = [{"name": n, "grade": g.value, "listed": known} for n, g, known in graded]
    check_in.answer(clean, moment)
    withdraw_texts(check_in)
    worst = max((g for _, g, _ in graded), key=list(AdverseGrade).index, default=None)
    names = ", ".join(n for n, g, _ in graded if g is worst)
    advice = ANSWERED_ADVICE
    if worst in (AdverseGrade.SERIOUS, AdverseGrade.MODERATE):
        event = AdverseEvent(patient_id=session.patient_id, session_id=session.id, grade=worst, source=source,
                             description=f"Reported in the {check_in.kind.value.replace('_', '-')} check-in of session "
                                         f"{session.number}: {names}.", opened_at=moment)
        db.session.add(event)
        if worst is AdverseGrade.SERIOUS:
            db.session.flush()
            db.session.add(TreatmentPause(patient_id=session.patient_id, started_at=moment, started_by=None,
                                          adverse_event_id=event.id,
                                          reason=f"Automatic pause: serious side effect reported ({names})."))
            _alert("adverse_event", "urgent", session.patient_id,
                   f"Serious side effect after session {session.number}: {names}. Treatment paused.")
            if session.status is SessionStatus.STARTED:
                session.end_early(moment)
            advice = SERIOUS_ADVICE
        else:
            _alert("side_effect", "routine", session.patient_id,
                   f"Side effect needing review after session {session.number}: {names}.")
            advice = MODERATE_ADVICE
    crisis_words = [t for t in clean.get("side_effects", []) if crisis_language.detect_crisis(t)]
    if crisis_words:
        # every free text is read for crisis language, as a text is: paged at once, the next session
        # held until a physician acknowledges it (session gate "crisis_alert"); a serious side effect
        # ("chest pain") has already paused treatment and raised its urgent alert
        if worst is not AdverseGrade.SERIOUS:
            intents = ", ".join(i.replace("_", " ") for t in crisis_words for i in crisis_language.crisis_intents(t))
            alert = crisis.alert_on_call(f"Crisis language ({intents}) in the {check_in.kind.value} check-in of "
                                         f"session {session.number}: {'; '.join(crisis_words)[:200]}",
                                         patient_id=session.patient_id, kind="crisis")
            notifications.page_on_call(alert)
        advice = CRISIS_ADVICE
    elif clean.get("mood") == reply_parsing.SCORE_RANGE[0] and check_in.kind is not CheckInKind.PRE:
        # the lowest mood after a session is understood, not a crisis: the care team reads it, the lines shown
        _alert("low_mood", "routine", session.patient_id,
               f"The lowest mood ({clean['mood']}) in the {check_in.kind.value.replace('_', '-')} check-in of session {session.number}.")
        advice += CRISIS_LINE_ADVICE
    elif any(not known for _, _, known in graded):
        advice += CRISIS_LINE_ADVICE  # words the table cannot read: a physician reads them (above), lines shown
    if check_in.kind is CheckInKind.POST:
        _update_review_flags(session.prescription_id)
    audit.record(patient, "update", "check_in", check_in.id, patient_id=session.patient_id,
                 fields=["status", "answers"])
    finish(commit)
    return check_in, worst, advice


def shows_crisis_resources(advice: str) -> bool:
    """Whether the answer to a check-in shows the crisis resources: its advice names 988 (crisis
    language, words the table cannot read, the lowest mood after a session)."""
    return advice == CRISIS_ADVICE or advice.endswith(CRISIS_LINE_ADVICE)


def _done(session: HomeSession) -> bool:
    post = session.check_in(CheckInKind.POST)
    return (session.status in (SessionStatus.COMPLETED, SessionStatus.ENDED_EARLY)
            and post is not None and post.status is CheckInStatus.ANSWERED)


def _update_review_flags(prescription_id: int) -> None:
    """Mark each delivered stage whose sessions are all done (in the order they were taken, stage
    by stage): the physician's review flag, which lets the next stage be released."""
    versions = versions_of(db.session.get(Prescription, prescription_id).lineage)
    stages = list(db.session.scalars(select(Shipment).where(
        Shipment.prescription_id.in_(versions),
        Shipment.status.not_in((ShipmentStatus.CANCELLED, ShipmentStatus.RETURNED)))
        .order_by(Shipment.stage, Shipment.id).with_for_update()))
    taken = list(db.session.scalars(select(HomeSession).where(
        HomeSession.prescription_id.in_(versions), HomeSession.status.in_(TAKEN))
        .options(selectinload(HomeSession.check_ins)).order_by(HomeSession.started_at, HomeSession.id)))
    offset = 0
    for stage in stages:
        supplied, offset = taken[offset:offset + stage.sessions], offset + stage.sessions
        if (stage.status is ShipmentStatus.DELIVERED and stage.sessions_completed_at is None
                and len(supplied) == stage.sessions and all(_done(s) for s in supplied)):
            stage.sessions_completed_at = now()


# ------------------------------------------------------------------ for the SMS side (caller's transaction)


def open_check_ins(patient: User) -> list[CheckIn]:
    """The patient's check-ins still waiting for an answer, soonest due first (an SMS reply is
    matched to the first one that is due). Each comes with its session (the SMS side reads it)."""
    return list(db.session.scalars(select(CheckIn).join(CheckIn.session).options(contains_eager(CheckIn.session))
                                   .where(HomeSession.patient_id == patient.id, CheckIn.status.in_(OPEN_CHECK_IN))
                                   .order_by(CheckIn.due_at)))


def check_ins_needing_action(at: datetime, limit: int = 200) -> dict[str, list[CheckIn]]:
    """What the scheduler should do now: "prompt" (pending and due), "remind" (prompted, no answer
    after check_in_reprompt_hours) and "escalate" (reminded, no answer after as long again)."""
    wait = timedelta(hours=current_policy().check_in_reprompt_hours)

    def rows(*conditions):
        return list(db.session.scalars(select(CheckIn).where(*conditions).order_by(CheckIn.due_at).limit(limit)))

    # how a session went is asked only once it has started (a missed one's check-ins expire)
    started = CheckIn.session_id.in_(select(HomeSession.id).where(HomeSession.status.in_(TAKEN)))
    return {"prompt": rows(CheckIn.status == CheckInStatus.PENDING, CheckIn.due_at <= at,
                           or_(CheckIn.kind == CheckInKind.PRE, started)),
            "remind": rows(CheckIn.status == CheckInStatus.PROMPTED, CheckIn.prompted_at <= at - wait),
            "escalate": rows(CheckIn.status == CheckInStatus.REMINDED, CheckIn.reminded_at <= at - wait)}


def check_in_text_key(check_in_id: int, step: str) -> str:
    """The outbox dedupe key of a check-in's text (step: prompt, remind, contact)."""
    return f"check_in:{check_in_id}:{step}"


def withdraw_texts(check_in: CheckIn) -> None:
    """A check-in answered or expired: its prompt or reminder, if still waiting to go, is not sent."""
    outbox.cancel_pending([check_in_text_key(check_in.id, "prompt"), check_in_text_key(check_in.id, "remind")])


def close_open_check_ins(session: HomeSession) -> None:
    """A session that will not happen (cancelled, missed): its open check-ins expire and their
    texts still waiting to go are withdrawn."""
    for check_in in session.check_ins:
        if check_in.is_open:
            check_in.expire()
            withdraw_texts(check_in)


def mark_missed_sessions(at: datetime, limit: int = 200) -> int:
    """Sessions never started `missed_session_after_hours` after their time become missed, and their
    open check-ins expire (nobody is asked how a session that did not happen went). In the caller's
    transaction."""
    cutoff = at - timedelta(hours=current_policy().missed_session_after_hours)
    sessions = list(db.session.scalars(select(HomeSession).where(
        HomeSession.status == SessionStatus.SCHEDULED, HomeSession.scheduled_for <= cutoff)
        .options(selectinload(HomeSession.check_ins))
        .order_by(HomeSession.scheduled_for).limit(limit).with_for_update(skip_locked=True)))
    for session in sessions:
        session.miss(at)
        close_open_check_ins(session)
    return len(sessions)


def escalate_check_in(check_in: CheckIn, at: datetime) -> ClinicalAlert:
    """No answer after the re-prompt: the on-call physician is told (urgent after a session's post
    check-in, when the patient may be unwell; routine otherwise)."""
    check_in.escalate(at)
    session = check_in.session
    urgency = "urgent" if check_in.kind is CheckInKind.POST else "routine"
    return _alert("check_in_unanswered", urgency, session.patient_id,
                  f"No answer to the {check_in.kind.value.replace('_', '-')} check-in of session {session.number}.")

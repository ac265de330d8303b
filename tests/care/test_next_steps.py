"""The patient's home plan (services/care/next_steps.py): one test per stage of the program, each
checking the one next step, its words and times, and the checklist around it.

The demo's stage patients (`flask seed-demo`, telehealth/demo.py) are the real stories; the other
stages are built with the factories of the session tests (tests/sessions_support.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.demo import PATIENTS, seed_demo
from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, CreditKind, HomeSession, RetakeRequest, SessionStatus,
    ShipmentStatus, TreatmentPause,
)
from telehealth.models.care.care_notes import PatientTreatmentPhase, TreatmentPhase
from telehealth.models.screening.assessments import Decision
from telehealth.services.accounts import accounts
from telehealth.services.billing import ledger
from telehealth.services.care import next_steps
from telehealth.services.home_care import home_sessions
from telehealth.services.screening import assessments, measures, reviews
from tests import sessions_support
from tests.screening_data import gad7_answers, phq9_answers, valid_screening_answers
from tests.sessions_support import deliver, encounter, ready

clock = sessions_support.clock


def plan_of(patient, at=None) -> next_steps.HomePlan:
    """The plan, with what must always hold: exactly one next step, and it is `plan.next`."""
    result = next_steps.plan(patient, at)
    marked = [item for item in result.checklist if item.state == next_steps.NEXT]
    assert len(marked) == 1, [(i.code, i.state) for i in result.checklist]
    assert marked[0] is result.next
    assert result.next.title and result.next.detail
    return result


def states(result) -> dict[str, str]:
    return {item.code: item.state for item in result.checklist}


# --------------------------------------------------------------------------- the demo's stage patients


@pytest.fixture
def demo(db):
    seed_demo()
    return {stage: accounts.find_by_email(spec["email"]) for stage, spec in PATIENTS.items()}


def test_demo_waiting_for_review_counts_down_the_24_hour_promise(demo):
    result = plan_of(demo["review"])
    step = result.next
    assert step.code == "review" and not step.overdue
    assert timedelta(hours=23) < step.due_at - now() <= timedelta(hours=24)
    assert "within 24 hours" in step.detail
    assert states(result) == {"screening": "done", "review": "next", "package": "later", "consult": "later",
                              "prescription": "later", "medication": "later", "first_session": "later",
                              "coaching": "later"}


def test_demo_approved_without_credits_buys_a_package(demo):
    result = plan_of(demo["approved"])
    assert result.next.code == "buy_package"
    assert states(result)["review"] == "done" and states(result)["buy_package"] == "next"


def test_demo_consult_now_is_open_to_join(demo):
    step = plan_of(demo["consult"]).next
    assert step.code == "consult_booked" and step.joinable
    assert step.appointment_type == "consult" and step.appointment_id
    assert "Dr. Samuel Brooks" in step.detail and step.at <= now()


def test_demo_consult_held_waits_for_the_prescription(demo):
    # the follow-up with Dr. Adams booked for now (her Today page's appointment) is open to join, so
    # it comes first; an hour after it, the prescription is the next step again
    result = plan_of(demo["prescribe"])
    assert result.next.code == "follow_up_booked" and result.next.joinable
    result = plan_of(demo["prescribe"], now() + timedelta(hours=1))
    assert result.next.code == "await_prescription"
    assert states(result)["consult"] == "done" and states(result)["await_prescription"] == "next"


def test_demo_medication_delivered_schedules_the_first_session(demo):
    result = plan_of(demo["ready"])
    assert result.next.code == "schedule_session" and "your first at-home session" in result.next.detail
    assert states(result)["medication"] == "done" and states(result)["schedule_session"] == "next"
    assert states(result)["coaching"] == "later"  # booked, not yet held


def test_demo_in_treatment_books_the_follow_up_that_is_due(demo):
    result = plan_of(demo["treatment"])
    assert result.next.code == "book_follow_up"
    # every milestone is behind them: the follow-up comes after the checklist
    assert [i.state for i in result.checklist] == ["done"] * 8 + ["next"]


def test_reading_the_home_plan_is_audited(demo, db):
    patient = demo["review"]
    before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.resource_type == "home_plan"))
    next_steps.home_plan(patient)
    rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "home_plan")))
    assert len(rows) == before + 1 and rows[-1].patient_id == patient.id and rows[-1].action == "read"


# --------------------------------------------------------------------------- screening and review


@pytest.fixture
def ny_physician(create_user):
    return create_user("physician", states=["NY"])


def _screened(patient, **sections):
    assessment, _ = assessments.submit(patient, "screening", 1, valid_screening_answers(**sections))
    return assessment


def test_no_screening_yet_starts_with_the_screening(create_user):
    result = plan_of(create_user("patient"))
    assert result.next.code == "screening"
    assert result.checklist[0] is result.next
    assert all(item.state == "later" for item in result.checklist[1:])


def test_a_review_past_its_deadline_says_so_and_apologises(create_user, ny_physician, clock):
    patient = create_user("patient")
    assessment = _screened(patient)
    clock.shift(timedelta(hours=25))
    step = plan_of(patient).next
    assert step.code == "review" and step.overdue and step.due_at == assessment.review_due_at
    assert "longer than we promised" in step.detail


def test_a_crisis_screening_shows_help_first_and_nothing_after_it(create_user, ny_physician):
    patient = create_user("patient")
    _screened(patient, phq9=phq9_answers(20, item9=2))
    result = plan_of(patient)
    assert result.next.code == "crisis" and result.next.crisis and result.path_stopped
    assert "988" in result.next.detail and "741741" in result.next.detail and "911" in result.next.detail
    assert [i.code for i in result.checklist] == ["screening", "crisis"]  # no package, no consult


def test_a_question_from_the_reviewer_is_quoted(create_user, ny_physician):
    patient = create_user("patient")
    assessment = _screened(patient)
    reviews.decide(ny_physician, assessment.id, Decision.REQUEST_INFO, message="How long did you take sertraline?",
                   note=None)
    step = plan_of(patient).next
    assert step.code == "review_question" and step.quote == "How long did you take sertraline?"


def test_a_declined_screening_stops_the_path_and_sells_nothing(create_user, ny_physician):
    patient = create_user("patient")
    assessment = _screened(patient)
    reviews.decide(ny_physician, assessment.id, Decision.DECLINE, message="Please see your own psychiatrist first.",
                   note="private")
    result = plan_of(patient)
    assert result.next.code == "declined" and result.path_stopped
    assert result.next.quote == "Please see your own psychiatrist first."
    assert "own doctor" in result.next.detail
    assert [i.code for i in result.checklist] == ["screening", "declined"]


# --------------------------------------------------------------------------- before the consult


def test_a_consult_credit_books_the_consult(create_user, ny_physician, db):
    patient = create_user("patient")
    assessment = _screened(patient)
    reviews.decide(ny_physician, assessment.id, Decision.APPROVE, message=None, note=None)
    ledger.grant(patient.id, CreditKind.CONSULT, 1, key="test:consult")
    db.session.commit()
    result = plan_of(patient)
    assert result.next.code == "book_consult" and states(result)["book_consult"] == "next"


def test_a_consult_booked_for_tomorrow_is_not_open_yet(create_user, ny_physician, db):
    patient = create_user("patient")
    assessment = _screened(patient)
    reviews.decide(ny_physician, assessment.id, Decision.APPROVE, message=None, note=None)
    starts = now() + timedelta(days=1)
    db.session.add(Appointment(patient_id=patient.id, provider_id=ny_physician.id, appointment_type="consult",
                               starts_at=starts, ends_at=starts + timedelta(minutes=30), blocks_from=starts,
                               blocks_until=starts + timedelta(minutes=30), credit_kind="consult",
                               video_room=f"room-{patient.id}"))
    db.session.commit()
    step = plan_of(patient).next
    assert step.code == "consult_booked" and not step.joinable and step.at == starts
    assert "opens 10 minutes before" in step.detail


# --------------------------------------------------------------------------- in treatment


def test_a_prescription_without_a_stage_yet_waits_for_the_medication(db, create_user, clock):
    ctx = ready(db, create_user, stages=())
    assert plan_of(ctx.patient).next.code == "await_medication"


def test_medication_on_its_way_shows_its_tracking(db, create_user, clock):
    ctx = ready(db, create_user, stages=())
    stage = deliver(db, ctx.prescription, 3, status=ShipmentStatus.SHIPPED)
    stage.carrier, stage.tracking_number = "UPS", "1Z999AA10123456784"
    db.session.commit()
    result = plan_of(ctx.patient)
    step = result.next
    assert step.code == "medication_shipping" and states(result)["medication_shipping"] == "next"
    assert step.tracking.number == "1Z999AA10123456784" and step.tracking.carrier == "UPS"
    assert step.tracking.url and "1Z999AA10123456784" in step.tracking.url
    assert step.tracking.status == "Your medication is on its way."


def test_delivered_medication_schedules_a_session(db, create_user, clock):
    ctx = ready(db, create_user)
    assert plan_of(ctx.patient).next.code == "schedule_session"


def test_a_scheduled_session_tells_how_to_get_ready(db, create_user, clock):
    ctx = ready(db, create_user)
    at = now() + timedelta(days=2)
    home_sessions.schedule_session(ctx.patient, at, "Sam Sitter", "+1 212 555 0123")
    step = plan_of(ctx.patient).next
    assert step.code == "session_scheduled" and step.at == at and "blood pressure" in step.detail


def test_a_check_in_due_comes_first(db, create_user, clock):
    ctx = ready(db, create_user)
    home_sessions.schedule_session(ctx.patient, now() + timedelta(minutes=30), "Sam Sitter", "+1 212 555 0123")
    step = plan_of(ctx.patient).next  # the check-in before the session is due an hour before it
    assert step.code == "check_in" and "before your session" in step.detail


def test_a_session_under_way_comes_before_everything(db, create_user, clock):
    ctx = ready(db, create_user)
    session = home_sessions.schedule_session(ctx.patient, now() + timedelta(days=1), "Sam Sitter", "+1 212 555 0123")
    session.status, session.started_at = SessionStatus.STARTED, now()
    db.session.commit()
    assert plan_of(ctx.patient).next.code == "session_in_progress"


def test_a_follow_up_is_needed_after_six_sessions(db, create_user, clock):
    ctx = ready(db, create_user, sessions=12, stages=(3, 3, 3))
    for number in range(1, 7):
        at = now() - timedelta(days=30 - 4 * number)
        db.session.add(HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=number,
                                   scheduled_for=at, started_at=at, completed_at=at + timedelta(hours=2),
                                   status=SessionStatus.COMPLETED, sitter_name="Sam", sitter_phone="+12125550123"))
    # the consult was a day ago in `ready`: move it before the sessions
    consult = db.session.get(Appointment, ctx.prescription.encounter_appointment_id)
    consult.starts_at = consult.blocks_from = now() - timedelta(days=40)
    consult.ends_at = consult.blocks_until = consult.encounter_ended_at = now() - timedelta(days=40, minutes=-30)
    db.session.commit()
    step = plan_of(ctx.patient).next
    assert step.code == "buy_follow_up" and "follow-up with your physician is needed" in step.detail
    ledger.grant(ctx.patient.id, CreditKind.FOLLOW_UP, 1, key="test:follow-up")
    db.session.commit()
    assert plan_of(ctx.patient).next.code == "book_follow_up"


def test_a_retake_asked_before_the_follow_up_comes_before_it_until_answered(db, create_user, clock):
    ctx = ready(db, create_user)
    starts = now() + timedelta(hours=30)
    follow_up = Appointment(patient_id=ctx.patient.id, provider_id=ctx.physician.id, appointment_type="follow_up",
                            starts_at=starts, ends_at=starts + timedelta(minutes=20), blocks_from=starts,
                            blocks_until=starts + timedelta(minutes=20), credit_kind="follow_up",
                            video_room=f"fu-{ctx.patient.id}")
    db.session.add(follow_up)
    db.session.flush()
    db.session.add(RetakeRequest(appointment_id=follow_up.id, patient_id=ctx.patient.id, requested_at=now()))
    db.session.commit()
    assert plan_of(ctx.patient).next.code == "retake"
    measures.record_retake(ctx.patient, "phq9", 1, {"phq9": phq9_answers(8)})
    assert plan_of(ctx.patient).next.code == "retake"  # GAD-7 still to answer
    measures.record_retake(ctx.patient, "gad7", 1, {"gad7": gad7_answers(6)})
    assert plan_of(ctx.patient).next.code == "schedule_session"  # medication at home comes first
    # an hour after the follow-up opened, it is the step
    step = plan_of(ctx.patient, starts + timedelta(minutes=5)).next
    assert step.code == "follow_up_booked" and step.joinable


def test_a_pause_by_the_physician_is_said_plainly(db, create_user, clock):
    ctx = ready(db, create_user)
    db.session.add(TreatmentPause(patient_id=ctx.patient.id, reason="Blood pressure high twice.",
                                  started_by=ctx.physician.id))
    db.session.commit()
    step = plan_of(ctx.patient).next
    assert step.code == "paused" and "contact you" in step.detail


def test_a_discharge_ends_treatment(db, create_user, clock):
    ctx = ready(db, create_user)
    db.session.add(PatientTreatmentPhase(patient_id=ctx.patient.id, phase=TreatmentPhase.DISCHARGED,
                                         changed_at=now(), changed_by=ctx.physician.id))
    db.session.commit()
    assert plan_of(ctx.patient).next.code == "discharged"


# --------------------------------------------------------------------------- coaching, and all done


def _used_up(db, create_user):
    """A one-session prescription, its session taken: nothing in treatment to do."""
    ctx = ready(db, create_user, sessions=1, stages=(1,))
    at = now() - timedelta(hours=3)
    db.session.add(HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=1,
                               scheduled_for=at, started_at=at, completed_at=at + timedelta(hours=2),
                               status=SessionStatus.COMPLETED, sitter_name="Sam", sitter_phone="+12125550123"))
    db.session.commit()
    return ctx


def test_a_coaching_credit_books_coaching(db, create_user, clock):
    ctx = _used_up(db, create_user)
    ledger.grant(ctx.patient.id, CreditKind.COACHING_30, 1, key="test:coaching")
    db.session.commit()
    result = plan_of(ctx.patient)
    assert result.next.code == "book_coaching" and states(result)["book_coaching"] == "next"
    coach = create_user("coach")
    starts = now() + timedelta(days=2)
    db.session.add(Appointment(patient_id=ctx.patient.id, provider_id=coach.id, appointment_type="coaching_30",
                               starts_at=starts, ends_at=starts + timedelta(minutes=30), blocks_from=starts,
                               blocks_until=starts + timedelta(minutes=30), credit_kind="coaching_30",
                               video_room=f"c-{ctx.patient.id}", status=AppointmentStatus.BOOKED))
    db.session.commit()
    step = plan_of(ctx.patient).next
    assert step.code == "coaching_booked" and step.at == starts and coach.display_name in step.detail


def test_nothing_to_do_is_all_done(db, create_user, clock):
    ctx = _used_up(db, create_user)
    step = plan_of(ctx.patient).next
    assert step.code == "all_done" and "nothing you need to do" in step.detail
    assert encounter  # (the factories' own helper, used by `ready`)

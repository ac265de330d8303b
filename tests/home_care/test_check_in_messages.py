"""Check-ins by SMS: prompts when due, the patient's replies read in the context of the open
check-in (GO / NO-GO, side effects), silence escalated with a moved clock, crisis words answered at
once and paged, and nothing clinical in any text."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    AlertStatus, BloodPressureReading, CheckIn, CheckInKind, CheckInStatus, ClinicalAlert, HomeSession,
    MessagePriority, MessageStatus, OutboundMessage, SessionStatus, SmsConsent, TreatmentPause,
)
from telehealth.services.home_care import check_in_messages, home_sessions, reply_parsing
from telehealth.services.messaging import outbox
from telehealth.services.messaging.message_content import ClinicalContentError, check_sms_body
from tests.sessions_support import START, ready
from tests.home_care.test_sms_inbound import post_sms

PHONE = "+12125550160"
ON_CALL = "+13125550199"


@pytest.fixture
def clock(app, monkeypatch):
    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", ON_CALL)
    with time_machine.travel(START, tick=False) as traveller:  # 10:00 in New York
        yield traveller


@pytest.fixture
def patient_session(db, create_user, clock):
    """A ready patient who agreed to texts, with a session at 13:00 New York time today."""
    ctx = ready(db, create_user)
    ctx.patient.patient_profile.phone_e164 = PHONE
    db.session.add(SmsConsent(user_id=ctx.patient.id, phone_e164=PHONE, opted_in_at=now(), wording="I agree.",
                              wording_version="test"))
    db.session.commit()
    session = home_sessions.schedule_session(ctx.patient, now() + timedelta(hours=3), "Sam Sitter", "+12125550123")
    return ctx, session


def texts(db, phone=PHONE, purpose=None) -> list[OutboundMessage]:
    query = select(OutboundMessage).where(OutboundMessage.to_phone == phone).order_by(OutboundMessage.id)
    if purpose:
        query = query.where(OutboundMessage.purpose.startswith(purpose))
    return list(db.session.scalars(query))


def check_in(db, session, kind) -> CheckIn:
    db.session.expire_all()
    return db.session.scalar(select(CheckIn).where(CheckIn.session_id == session.id, CheckIn.kind == kind))


def last_reply(db) -> str:
    return texts(db)[-1].body


def prompt_pre(clock, session):
    clock.move_to(session.scheduled_for - timedelta(minutes=60))
    assert check_in_messages.sweep()["prompted"] == 1


def test_the_pre_check_in_is_texted_when_due_once_and_a_reading_with_yes_is_a_go(client, app, db, patient_session,
                                                                                 clock):
    ctx, session = patient_session
    clock.move_to(session.scheduled_for - timedelta(minutes=61))
    assert check_in_messages.sweep()["prompted"] == 0  # not due yet
    prompt_pre(clock, session)
    assert check_in_messages.sweep() == {"missed": 0, "prompted": 0, "reminded": 0, "escalated": 0}  # once
    [prompt] = texts(db, purpose="check_in_prompt")
    assert "128/82" in prompt.body and prompt.priority is MessagePriority.ROUTINE
    assert check_in(db, session, CheckInKind.PRE).status is CheckInStatus.PROMPTED

    assert post_sms(client, app, PHONE, "bp 128 / 82, my sister is here").status_code == 200
    assert last_reply(db).startswith("GO: all checks passed")
    db.session.expire_all()
    reading = db.session.scalar(select(BloodPressureReading).where(BloodPressureReading.session_id == session.id))
    assert (reading.systolic, reading.diastolic, reading.source.value) == (128, 82, "sms")
    assert db.session.get(HomeSession, session.id).sitter_confirmed_at is not None
    assert check_in(db, session, CheckInKind.PRE).status is CheckInStatus.ANSWERED
    # the gates now hold: the session starts
    assert home_sessions.start_session(ctx.patient, session.id).status is SessionStatus.STARTED


@pytest.mark.parametrize("reply, answer, kind, urgency", [
    ("150/95 yes", check_in_messages.NO_GO, "bp_no_go", "routine"),
    ("139/90 yes", check_in_messages.NO_GO, "bp_no_go", "routine"),
    ("185 over 100, sitter here", check_in_messages.URGENT, "bp_urgent", "urgent"),
    ("150/120 y", check_in_messages.URGENT, "bp_urgent", "urgent"),
])
def test_a_reading_out_of_range_is_a_no_go_and_the_physician_is_told(client, app, db, patient_session, clock,
                                                                     reply, answer, kind, urgency):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, reply)
    assert last_reply(db) == answer
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.patient_id == ctx.patient.id)).all()
    assert (alert.kind, alert.urgency) == (kind, urgency)


def test_a_bare_yes_confirms_the_sitter_and_asks_for_the_reading_not_a_resubscribe(client, app, db, patient_session,
                                                                                   clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "YES")
    assert last_reply(db) == "Not yet: send a new reading like 128/82. Reply again when ready."
    db.session.expire_all()
    assert db.session.get(HomeSession, session.id).sitter_confirmed_at is not None
    assert texts(db, purpose="opt_in_confirmation") == []


@pytest.mark.parametrize("reply", ["12882", "128.5/82 yes", "128/82 and 130/85", "it is fine"])
def test_an_unreadable_reading_gets_a_hint_and_records_nothing(client, app, db, patient_session, clock, reply):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, reply)
    assert "128/82" in last_reply(db) and not last_reply(db).startswith("GO")
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 0
    assert check_in(db, session, CheckInKind.PRE).status is CheckInStatus.PROMPTED


def _started(client, app, db, clock, ctx, session):
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "118/76 yes")
    clock.move_to(session.scheduled_for)
    home_sessions.start_session(ctx.patient, session.id)
    clock.move_to(now() + timedelta(hours=2))
    assert check_in_messages.sweep()["prompted"] == 1  # the post check-in


def prompt_next_day_at_night(client, app, db, clock, ctx, session):
    """A taken session whose next-day check-in falls due at 22:00 in New York, swept then."""
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7 none")
    next_day = check_in(db, session, CheckInKind.NEXT_DAY)
    next_day.due_at = START.replace(hour=3) + timedelta(days=1)
    db.session.commit()
    clock.move_to(next_day.due_at)
    assert check_in_messages.sweep()["prompted"] == 1


def test_after_the_session_mood_and_side_effects_are_recorded(client, app, db, patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7, a bit nauseous")
    assert last_reply(db) == check_in_messages.THANKS
    answered = check_in(db, session, CheckInKind.POST)
    assert answered.status is CheckInStatus.ANSWERED and answered.answers["mood"] == 7
    assert [g["name"] for g in answered.answers["graded"]] == ["nausea"]


def test_a_serious_side_effect_by_text_pauses_treatment_and_alerts(client, app, db, patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "3 blood in my urine")  # serious, not crisis words ("bleeding a lot" is: below)
    assert last_reply(db) == check_in_messages.SERIOUS
    assert db.session.scalar(select(func.count()).select_from(TreatmentPause)) == 1
    urgent = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "adverse_event"))
    assert urgent.urgency == "urgent"


def test_silence_gets_a_second_prompt_then_the_care_team_and_the_sitter(client, app, db, patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    clock.move_to(now() + timedelta(hours=1, minutes=59))
    assert check_in_messages.sweep()["reminded"] == 0
    clock.move_to(now() + timedelta(minutes=1))
    assert check_in_messages.sweep()["reminded"] == 1
    assert texts(db, purpose="check_in_remind")[0].body.startswith("Reminder: ")
    clock.move_to(now() + timedelta(hours=2))
    assert check_in_messages.sweep()["escalated"] == 1
    assert check_in_messages.sweep() == {"missed": 0, "prompted": 0, "reminded": 0, "escalated": 0}  # once
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "check_in_unanswered")).all()
    assert alert.urgency == "urgent"  # right after a session
    [ask] = texts(db, phone="+12125550123")  # the sitter
    assert ask.priority is MessagePriority.REPLY and "check on them" in ask.body and "911" in ask.body
    assert ask.status is MessageStatus.PENDING  # any hour, and the sitter never had to sign up for texts
    # a late answer is still taken
    post_sms(client, app, PHONE, "6 none")
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.ANSWERED


def test_a_sitter_who_texted_stop_is_not_asked_to_check_on_the_patient(client, app, db, patient_session, clock):
    """PRODUCT.md: STOP ends messages at once, also the sitter's (only crisis answers to the person
    in crisis ignore it)."""
    ctx, session = patient_session
    assert post_sms(client, app, "+12125550123", "STOP").status_code == 200  # the sitter
    _started(client, app, db, clock, ctx, session)
    clock.move_to(now() + timedelta(hours=4))
    assert check_in_messages.sweep()["reminded"] == 1
    clock.move_to(now() + timedelta(hours=2))
    assert check_in_messages.sweep()["escalated"] == 1
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "check_in_unanswered")) is not None
    [confirmation, ask] = texts(db, phone="+12125550123")
    assert confirmation.purpose == "opt_out_confirmation"
    assert ask.purpose == "check_in_contact" and ask.status is MessageStatus.SUPPRESSED
    assert ask.last_error == "opted out"


def test_a_session_never_started_asks_nothing_afterwards_and_becomes_missed(client, app, db, patient_session,
                                                                           clock):
    ctx, session = patient_session
    clock.move_to(session.scheduled_for + timedelta(hours=2))
    check_in_messages.sweep()
    assert texts(db, purpose="check_in_prompt")[-1].body.startswith(app.config["SMS_PROGRAM_NAME"] + ": time for")
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.PENDING  # not asked
    clock.move_to(session.scheduled_for + timedelta(hours=6))
    assert check_in_messages.sweep()["missed"] == 1
    db.session.expire_all()
    assert db.session.get(HomeSession, session.id).status is SessionStatus.MISSED
    assert {c.status for c in db.session.get(HomeSession, session.id).check_ins} == {CheckInStatus.EXPIRED}
    assert len(texts(db, purpose="check_in_prompt")) == 1


def test_a_cancelled_session_withdraws_its_prompt_still_waiting_to_go(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    [prompt] = texts(db, purpose="check_in_prompt")
    assert prompt.status is MessageStatus.PENDING
    home_sessions.cancel_session(ctx.patient, session.id)
    db.session.expire_all()
    assert db.session.get(OutboundMessage, prompt.id).status is MessageStatus.CANCELLED
    assert check_in(db, session, CheckInKind.PRE).status is CheckInStatus.EXPIRED


def test_a_started_session_withdraws_its_pre_prompt_still_waiting_to_go(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    [prompt] = texts(db, purpose="check_in_prompt")
    clock.move_to(session.scheduled_for)
    home_sessions.confirm_sitter(ctx.patient, session.id)
    home_sessions.record_blood_pressure(ctx.patient, session.id, 120, 80)
    home_sessions.start_session(ctx.patient, session.id)  # answered in the app, not by text
    db.session.expire_all()
    assert db.session.get(OutboundMessage, prompt.id).status is MessageStatus.CANCELLED


def test_an_unanswered_pre_check_in_is_not_escalated(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    clock.move_to(now() + timedelta(hours=4, minutes=1))
    counts = check_in_messages.sweep()
    assert counts["reminded"] + counts["escalated"] >= 1
    check_in_messages.sweep()
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0
    assert texts(db, phone="+12125550123") == []


def test_a_prompt_due_at_night_waits_for_the_morning_and_so_does_the_reminder_clock(client, app, db,
                                                                                    patient_session, clock):
    ctx, session = patient_session
    prompt_next_day_at_night(client, app, db, clock, ctx, session)
    [prompt] = texts(db, purpose="check_in_prompt")[-1:]
    assert prompt.not_before == START.replace(hour=13) + timedelta(days=1)  # 8:00 in New York
    clock.move_to(now() + timedelta(hours=3))  # 01:00: no reminder yet, the text has not even gone
    assert check_in_messages.sweep()["reminded"] == 0


@pytest.mark.parametrize("words", ["I want to die", "gonna kill myself", "i took too many", "cant breath"])
def test_crisis_words_from_a_patient_get_988_and_911_and_page_on_call_at_once(client, app, db, patient_session,
                                                                              clock, words):
    ctx, session = patient_session
    prompt_pre(clock, session)  # even in the middle of a check-in
    post_sms(client, app, PHONE, words)
    [reply] = texts(db, purpose="crisis_reply")
    assert "988" in reply.body and "911" in reply.body and "741741" in reply.body
    assert reply.priority is MessagePriority.CRISIS
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis"))
    assert alert.urgency == "urgent" and alert.patient_id == ctx.patient.id
    assert alert.status is AlertStatus.DELIVERED  # paged in the same request: the next tick sends it
    [page] = texts(db, phone=ON_CALL)
    assert page.priority is MessagePriority.STAFF and "log in" in page.body
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 0


def test_crisis_words_from_an_unknown_or_opted_out_number_are_answered_too(client, app, db, clock):
    post_sms(client, app, "+12125550177", "STOP")
    post_sms(client, app, "+12125550177", "i want to end my life")
    [reply] = texts(db, phone="+12125550177", purpose="crisis_reply")
    assert reply.status is MessageStatus.PENDING  # not suppressed by the STOP
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis"))
    assert "+12125550177" in alert.summary  # the on-call physician can call back


@pytest.mark.parametrize("reply", ["3 chest pain", "3 bleeding a lot"])
def test_crisis_words_in_a_check_in_answer_are_answered_as_a_crisis_and_still_recorded(client, app, db,
                                                                                      patient_session, clock, reply):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, reply)
    assert [t.purpose for t in texts(db)][-1] == "crisis_reply"  # one answer: 911 and 988
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.ANSWERED
    assert db.session.scalar(select(func.count()).select_from(TreatmentPause)) == 1
    kinds = set(db.session.scalars(select(ClinicalAlert.kind)))
    assert {"crisis", "adverse_event"} <= kinds


def test_the_outbox_refuses_clinical_words_in_any_text(db):
    with pytest.raises(ClinicalContentError):
        outbox.enqueue(PHONE, "Your ketamine has shipped.", "test", priority="reply")
    with pytest.raises(ClinicalContentError):
        outbox.enqueue(PHONE, "Call 988 (Suicide & Crisis Lifeline).", "test", priority="routine")
    outbox.enqueue(PHONE, check_in_messages.CRISIS_REPLY, "test", priority="crisis")


def test_every_check_in_text_is_free_of_clinical_words(app):
    with app.app_context():
        name = app.config["SMS_PROGRAM_NAME"]
    for template in check_in_messages.PROMPTS.values():
        check_sms_body(check_in_messages.REMINDER_PREFIX + template.format(name=name))
    for text in (check_in_messages.GO, check_in_messages.NO_GO, check_in_messages.URGENT, check_in_messages.THANKS,
                 check_in_messages.REVIEW, check_in_messages.SERIOUS, check_in_messages.CRISIS_LINE,
                 check_in_messages.SITTER_ASK.format(program=name, first="Pat")):
        check_sms_body(text)


def test_a_clinical_program_name_stops_the_app_at_start_up(database_url):
    from config import ConfigError
    from tests.conftest import make_test_app

    with pytest.raises(ConfigError, match="SMS_PROGRAM_NAME"):
        make_test_app(database_url, SMS_PROGRAM_NAME="Ketamine Clinic")


def test_a_crisis_text_through_twilio_is_answered_and_paged_within_one_dispatcher_tick(app, committed, live_server,
                                                                                       twilio, monkeypatch):
    from telehealth import scheduler

    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", ON_CALL)
    path = "/webhooks/twilio/sms"
    twilio.configure(webhook_url=live_server + path, public_url=app.config["PUBLIC_BASE_URL"] + path)
    assert twilio.inbound("+12125550178", "i dont want to live anymore")["status"] == 200
    [dispatch] = [job for job in scheduler.JOBS if job.name == "outbox_dispatch"]
    assert scheduler.run_job(app, dispatch)[0]  # one tick, nothing else run
    [reply] = twilio.messages(to="+12125550178")
    assert "988" in reply["body"] and "911" in reply["body"]
    [page] = twilio.messages(to=ON_CALL)
    assert page["body"] == "Urgent alert for a patient: log in to review."


def test_a_reading_texted_before_the_prompt_answers_the_coming_check_in(client, app, db, patient_session, clock):
    ctx, session = patient_session
    clock.move_to(session.scheduled_for - timedelta(minutes=80))  # the prompt is not due for 20 minutes
    post_sms(client, app, PHONE, "124/80 yes")
    assert last_reply(db).startswith("GO: all checks passed")
    assert check_in(db, session, CheckInKind.PRE).status is CheckInStatus.ANSWERED
    clock.move_to(session.scheduled_for - timedelta(minutes=60))
    assert check_in_messages.sweep()["prompted"] == 0  # answered: nothing to ask


def test_an_answer_withdraws_a_prompt_still_waiting_for_the_morning(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_next_day_at_night(client, app, db, clock, ctx, session)
    [held] = texts(db, purpose="check_in_prompt_next_day")
    assert held.status is MessageStatus.PENDING and held.not_before > now()
    client_app = app.test_client()
    client_app.post("/api/v1/auth/login", json={"email": ctx.patient.email, "password": "correct horse battery staple"})
    r = client_app.post(f"/api/v1/me/sessions/{session.id}/check-ins/next_day",
                        json={"mood": 7, "sleep_quality": 6, "side_effects": []})
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(OutboundMessage, held.id).status is MessageStatus.CANCELLED  # not sent at 8:00


def test_a_reply_answers_the_question_just_asked_not_an_older_escalated_one(client, app, db, create_user,
                                                                             patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    for _ in range(2):  # post: reminded, then escalated
        clock.move_to(now() + timedelta(hours=2))
        check_in_messages.sweep()
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.ESCALATED
    home_sessions.complete_session(ctx.patient, session.id)
    clock.move_to(check_in(db, session, CheckInKind.NEXT_DAY).due_at + timedelta(minutes=1))
    assert check_in_messages.sweep()["prompted"] == 1  # the next-day check-in
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.EXPIRED  # superseded
    post_sms(client, app, PHONE, "mood 7 sleep 6 none")
    answered = check_in(db, session, CheckInKind.NEXT_DAY)
    assert answered.status is CheckInStatus.ANSWERED and answered.answers["sleep_quality"] == 6


def test_routine_alerts_wait_in_the_list_and_only_urgent_ones_page_on_call(app, db, patient_session, clock):
    from telehealth.services.messaging import notifications

    ctx, session = patient_session
    db.session.add_all([
        ClinicalAlert(kind="bp_no_go", urgency="routine", patient_id=ctx.patient.id, summary="s"),
        ClinicalAlert(kind="crisis", urgency="urgent", patient_id=ctx.patient.id, summary="s"),
        ClinicalAlert(kind="shipment_ship_breach", urgency="urgent", recipient="ops", patient_id=ctx.patient.id,
                      summary="s")])
    db.session.commit()
    assert notifications.deliver_clinical_alerts() == 1
    assert [t.body for t in texts(db, phone=ON_CALL)] == ["Urgent alert for a patient: log in to review."]


def test_a_crash_before_the_reply_loses_nothing_and_twilios_retry_is_answered(client, app, db, patient_session,
                                                                              clock, monkeypatch):
    ctx, session = patient_session
    prompt_pre(clock, session)

    def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(check_in_messages, "_reply", crash)
    sid = "SM" + "ab" * 16
    assert post_sms(client, app, PHONE, "128/82 yes", sid=sid).status_code == 500
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 0  # all or nothing
    monkeypatch.undo()
    assert post_sms(client, app, PHONE, "128/82 yes", sid=sid).status_code == 200  # Twilio tries again
    assert last_reply(db).startswith("GO: all checks passed")
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 1


@pytest.mark.parametrize("words, urgency, answer", [
    ("there is blood in my urine", "urgent", check_in_messages.SERIOUS),
    ("been vomiting all morning", "routine", check_in_messages.REVIEW),
])
def test_a_symptom_texted_outside_any_check_in_reaches_the_care_team(client, app, db, patient_session, clock,
                                                                     words, urgency, answer):
    ctx, session = patient_session  # no check-in asked yet
    post_sms(client, app, PHONE, words)
    assert last_reply(db) == answer
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "side_effect_text")).all()
    assert alert.urgency == urgency and alert.patient_id == ctx.patient.id


def test_a_plain_message_outside_a_check_in_is_acknowledged_only(client, app, db, patient_session, clock):
    post_sms(client, app, PHONE, "thanks, see you tomorrow")
    assert "we got your message" in last_reply(db)
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0


# ------------------------------------------------------------------ fail safe inside a session's day

from tests.home_care.test_sms_inbound import MISSED_KINDS  # noqa: E402


@pytest.mark.parametrize("words", MISSED_KINDS)
def test_each_missed_kind_inside_an_open_post_check_in_gets_988_and_911_and_pages(client, app, db, patient_session,
                                                                                  clock, words):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, words)
    [reply] = texts(db, purpose="crisis_reply")
    assert "988" in reply.body and "911" in reply.body
    assert all(t.body != reply_parsing.HINT_POST_SESSION for t in texts(db))  # never the question alone
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis"))
    assert alert.urgency == "urgent" and alert.status is AlertStatus.DELIVERED
    assert len(texts(db, phone=ON_CALL)) == 1


@pytest.mark.parametrize("words", ["idk feeling weird", "not sure", "hmm", "???"])
def test_free_text_inside_an_open_post_check_in_gets_988_and_911_and_an_alert_to_acknowledge(
        client, app, db, auth, patient_session, clock, words):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, words)
    reply = last_reply(db)
    assert "988" in reply and "911" in reply and "1 to 10" in reply  # the question again, and the lines
    check_sms_body(reply, allow_crisis_resources=True)
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "unclear_reply")).all()
    assert (alert.urgency, alert.recipient, alert.patient_id) == ("urgent", "on_call_physician", ctx.patient.id)
    assert alert.status is AlertStatus.DELIVERED and len(texts(db, phone=ON_CALL)) == 1  # paged at once
    assert check_in(db, session, CheckInKind.POST).status is CheckInStatus.PROMPTED  # still asked
    auth.login(ctx.physician)
    assert client.post(f"/api/v1/alerts/{alert.id}/acknowledge").status_code == 200


def test_free_text_within_a_day_of_a_session_pages_and_not_after(client, app, db, patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7 none")  # the post check-in answered: none open now
    clock.move_to(now() + timedelta(hours=3))
    post_sms(client, app, PHONE, "feeling kind of strange tbh")
    assert "988" in last_reply(db) and "911" in last_reply(db)
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "unclear_reply")).all()
    assert alert.urgency == "urgent" and alert.status is AlertStatus.DELIVERED
    clock.move_to(session.scheduled_for + timedelta(hours=25))  # started more than a day ago
    db.session.get(HomeSession, session.id).completed_at = session.scheduled_for + timedelta(minutes=30)
    db.session.commit()
    for c in home_sessions.open_check_ins(ctx.patient):
        c.expire()
    db.session.commit()
    post_sms(client, app, PHONE, "feeling kind of strange tbh")
    assert "988" in last_reply(db) and "911" in last_reply(db)
    # a day later: the care team reads it (routine, in their list), nobody is paged
    assert [(a.urgency, a.recipient) for a in db.session.scalars(
        select(ClinicalAlert).where(ClinicalAlert.kind == "unclear_reply").order_by(ClinicalAlert.id))] == [
        ("urgent", "on_call_physician"), ("routine", "care_team")]
    assert len(texts(db, phone=ON_CALL)) == 1


def test_a_plain_thanks_within_a_day_of_a_session_is_understood_and_pages_no_one(client, app, db, patient_session,
                                                                                 clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7 none")
    post_sms(client, app, PHONE, "thanks!")
    assert "988" in last_reply(db)
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)
                             .where(ClinicalAlert.kind == "unclear_reply")) == 0


@pytest.mark.parametrize("reply", ["it is fine", "12882"])
def test_an_unreadable_pre_check_in_reply_also_names_988_and_911(client, app, db, patient_session, clock, reply):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, reply)
    assert "128/82" in last_reply(db) and "988" in last_reply(db) and "911" in last_reply(db)
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0  # no session in the last day


def test_help_within_a_day_of_a_session_gets_the_keyword_answer_and_pages(client, app, db, patient_session, clock):
    """HELP is a carrier keyword and also a possible cry for help: around a session a person reads it."""
    ctx, session = patient_session
    post_sms(client, app, PHONE, "HELP")  # no session taken yet: the keyword answer only
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "help")
    answer = last_reply(db)
    assert texts(db)[-1].purpose == "help" and "988" in answer and "911" in answer
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.status) == ("unclear_reply", "urgent", AlertStatus.DELIVERED)
    assert len(texts(db, phone=ON_CALL)) == 1


# ------------------------------------------------------------------ issue 12 §1: fail safe, second review

def test_a_crisis_text_in_the_pre_check_in_records_nothing_and_blocks_the_start_until_acknowledged(
        client, app, db, auth, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "128/82 yes i want to kill myself")
    assert texts(db)[-1].purpose == "crisis_reply"
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 0
    db.session.expire_all()
    assert db.session.get(HomeSession, session.id).sitter_confirmed_at is None
    clock.move_to(session.scheduled_for)
    post_sms(client, app, PHONE, "128/82 yes")  # a reading and the sitter later: still no start
    db.session.expire_all()
    gates = {g.id: g for g in home_sessions.session_detail(ctx.patient, session.id)[1]}
    assert not gates["crisis_alert"].ok and "physician" in gates["crisis_alert"].reason
    assert [g for g in gates.values() if not g.ok] == [gates["crisis_alert"]]
    auth.login(ctx.patient)
    r = client.post(f"/api/v1/me/sessions/{session.id}/start", json={})
    assert r.status_code == 409 and set(r.get_json()["error"]["fields"]) == {"crisis_alert"}
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis"))
    auth.login(ctx.physician)
    assert client.post(f"/api/v1/alerts/{alert.id}/acknowledge").status_code == 200
    auth.login(ctx.patient)
    assert client.post(f"/api/v1/me/sessions/{session.id}/start", json={}).status_code == 200


@pytest.mark.parametrize("reply", ["7 but im not ok", "8 none. honestly thinking its time to check out for good",
                                   "mood 6 sleep 5. i stockpiled my pills", "i want 2 dye",
                                   "no one cares whether im alive", "6 feeling weird honestly"])
def test_a_post_reply_with_words_the_parser_cannot_read_carries_the_lines_and_pages(client, app, db,
                                                                                   patient_session, clock, reply):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, reply)
    assert "988" in last_reply(db) and "911" in last_reply(db)
    alerts = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind.in_(("crisis", "unclear_reply"))))
    assert [(a.urgency, a.status) for a in alerts] == [("urgent", AlertStatus.DELIVERED)]
    answers = check_in(db, session, CheckInKind.POST).answers
    assert answers is None or answers.get("mood") not in (1, 2)  # "no one", "want 2": never a mood


def test_a_readable_post_reply_with_unknown_words_is_still_recorded(client, app, db, patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "6 feeling weird honestly")
    assert check_in(db, session, CheckInKind.POST).answers["mood"] == 6


@pytest.mark.parametrize("reply", ["3 2 i want it over", "6 6 fine 🔫", "🔫💊", "💀💀💀", "😭😭😭😭"])
def test_next_day_replies_not_understood_carry_the_lines_and_page(client, app, db, patient_session, clock, reply):
    ctx, session = patient_session
    prompt_next_day_at_night(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, reply)
    assert "988" in last_reply(db) and "911" in last_reply(db)
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert).where(
        ClinicalAlert.kind.in_(("crisis", "unclear_reply")), ClinicalAlert.urgency == "urgent")) == 1


@pytest.mark.parametrize("reply", ["slept ok 7", "mood 7 slept fine", "7 6 none"])
def test_common_next_day_phrasings_are_understood_without_a_page(client, app, db, patient_session, clock, reply):
    ctx, session = patient_session
    prompt_next_day_at_night(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, reply)
    assert last_reply(db) == check_in_messages.THANKS
    assert check_in(db, session, CheckInKind.NEXT_DAY).status is CheckInStatus.ANSWERED
    assert db.session.scalar(select(func.count()).select_from(ClinicalAlert)) == 0


def test_a_pre_check_in_reply_with_unread_words_carries_the_lines(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "128/82 sitter here, feeling weird about it")
    assert "988" in last_reply(db) and "911" in last_reply(db)
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 1  # still recorded


def test_a_pre_check_in_naming_a_weapon_is_a_crisis_not_a_go(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "128/82 sitter here. i found dads gun")
    assert texts(db)[-1].purpose == "crisis_reply" and not any(t.body.startswith("GO") for t in texts(db))
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 0


def test_a_symptom_text_with_unread_words_outside_a_check_in_carries_the_lines(client, app, db, patient_session,
                                                                               clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7 none")
    post_sms(client, app, PHONE, "been vomiting and my cat is weird")
    assert "988" in last_reply(db) and "911" in last_reply(db)
    kinds = {(a.kind, a.urgency) for a in db.session.scalars(select(ClinicalAlert))}
    assert ("unclear_reply", "urgent") in kinds


def test_an_unclear_text_far_from_a_session_reaches_the_care_team_unpaged(client, app, db, patient_session, clock):
    post_sms(client, app, PHONE, "feeling kind of strange tbh")
    assert "988" in last_reply(db)
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.recipient) == ("unclear_reply", "routine", "care_team")
    assert texts(db, phone=ON_CALL) == []


def test_after_stop_an_unclear_text_still_gets_the_lines_and_reaches_a_person(client, app, db, patient_session,
                                                                              clock):
    ctx, session = patient_session
    post_sms(client, app, PHONE, "STOP")
    post_sms(client, app, PHONE, "whats even the use of any of it")
    reply = texts(db)[-1]
    assert reply.status is MessageStatus.PENDING and "988" in reply.body and "911" in reply.body
    check_sms_body(reply.body, allow_crisis_resources=True)
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency) == ("unclear_reply", "routine")


def test_the_lowest_mood_by_text_after_a_session_carries_the_lines_and_tells_the_care_team(client, app, db,
                                                                                          patient_session, clock):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "1 none")
    assert last_reply(db).startswith(check_in_messages.THANKS) and "988" in last_reply(db)
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency) == ("low_mood", "routine") and texts(db, phone=ON_CALL) == []


@pytest.mark.parametrize("words", ["💀💀💀", "😭😭😭😭"])
def test_emoji_alone_within_a_day_of_a_session_pages(client, app, db, patient_session, clock, words):
    ctx, session = patient_session
    _started(client, app, db, clock, ctx, session)
    post_sms(client, app, PHONE, "7 none")
    post_sms(client, app, PHONE, words)
    assert "988" in last_reply(db)
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "unclear_reply")).all()
    assert alert.urgency == "urgent" and alert.status is AlertStatus.DELIVERED


def test_a_sitters_yes_with_unread_words_carries_the_lines(client, app, db, patient_session, clock):
    ctx, session = patient_session
    prompt_pre(clock, session)
    post_sms(client, app, PHONE, "yes sitter here but i feel weird")
    assert last_reply(db).startswith("Not yet") and "988" in last_reply(db)
    db.session.expire_all()
    assert db.session.get(HomeSession, session.id).sitter_confirmed_at is not None

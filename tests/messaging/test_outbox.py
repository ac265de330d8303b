"""The SMS outbox against the local Twilio (the real twilio SDK over HTTP): sent exactly once
through 5xx, 429, timeouts and a dispatcher that died after Twilio's 201; backoff; failures that
alert; consent and quiet hours in the patient's own zone."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from telehealth.adapters import sms
from telehealth.clock import now
from telehealth.models import ClinicalAlert, MessagePriority, MessageStatus, OutboundMessage, SmsConsent
from telehealth.services.messaging import outbox

ON_CALL = "+13125550199"


def unique_body(prefix: str = "Test text") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def opted_in(db, user, phone=None) -> SmsConsent:
    consent = SmsConsent(user_id=user.id, phone_e164=phone or user.patient_profile.phone_e164, opted_in_at=now(),
                         wording="I agree.", wording_version="test")
    db.session.add(consent)
    db.session.commit()
    return consent


def reload(db, message: OutboundMessage) -> OutboundMessage:
    return db.session.get(OutboundMessage, message.id, populate_existing=True)


@pytest.fixture
def fast_retries(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_SECONDS", 0)


def staff_text(db, body: str, **kw) -> OutboundMessage:
    message = outbox.enqueue(ON_CALL, body, "alert", priority=MessagePriority.STAFF, **kw)
    db.session.commit()
    return message


def test_a_text_is_sent_once_and_its_sid_recorded(db, twilio):
    body = unique_body()
    message = staff_text(db, body)
    counts = outbox.dispatch_due("w1")
    assert counts["sent"] == 1
    received = twilio.messages(body=body)
    assert len(received) == 1 and received[0]["to"] == ON_CALL
    message = reload(db, message)
    assert message.status is MessageStatus.SENT and message.provider_sid == received[0]["sid"]
    assert message.attempts == 1 and message.lease_owner is None and not message.uncertain
    assert outbox.dispatch_due("w1")["claimed"] == 0  # nothing left: sent once
    assert len(twilio.messages(body=body)) == 1


@pytest.mark.parametrize("fault, uncertain", [("500", True), ("429", False)])
def test_a_transient_error_is_retried_and_the_text_sent_once(db, twilio, fast_retries, fault, uncertain):
    body = unique_body()
    message = staff_text(db, body)
    twilio.fault(fault, 1)
    assert outbox.dispatch_due("w1")["retried"] == 1
    message = reload(db, message)
    assert message.status is MessageStatus.PENDING and message.uncertain is uncertain
    assert message.last_error and body not in message.last_error
    assert outbox.dispatch_due("w1")["sent"] == 1
    assert len(twilio.messages(body=body)) == 1
    assert reload(db, message).attempts == 2


def test_a_timeout_after_twilio_took_the_text_is_not_sent_again(db, twilio, fast_retries):
    body = unique_body()
    message = staff_text(db, body)
    twilio.fault("timeout", 1)  # the fake keeps the message, then answers too late
    assert outbox.dispatch_due("w1")["retried"] == 1
    assert reload(db, message).uncertain is True
    assert outbox.dispatch_due("w1")["sent"] == 1
    received = twilio.messages(body=body)
    assert len(received) == 1, received
    assert reload(db, message).provider_sid == received[0]["sid"]


def test_a_retry_finds_its_text_behind_more_than_a_thousand_newer_ones(db, twilio, fast_retries):
    """The on-call phone gets many texts: 1,200 more reached it between an uncertain attempt and its
    retry. The retry pages Twilio's list back to the first attempt and does not send again."""
    body = unique_body()
    message = staff_text(db, body)
    twilio.fault("timeout", 1)
    assert outbox.dispatch_due("w1")["retried"] == 1
    twilio.seed(ON_CALL, 1200)
    assert outbox.dispatch_due("w1")["sent"] == 1
    received = twilio.messages(body=body)
    assert len(received) == 1, received
    assert reload(db, message).provider_sid == received[0]["sid"]


def test_find_sent_pages_back_to_since_and_judges_creation_times_precisely(db, twilio):
    body = unique_body()
    sid = sms.send(ON_CALL, body)
    twilio.seed(ON_CALL, 1500)
    assert sms.find_sent(ON_CALL, body, now() - timedelta(minutes=1)) == sid
    assert sms.find_sent(ON_CALL, body, now() - timedelta(minutes=1), exclude={sid}) is None
    assert sms.find_sent(ON_CALL, body, now() + timedelta(minutes=1)) is None  # made before `since`


@pytest.mark.parametrize("lookup_fault", ["400", "429"])
def test_a_failed_lookup_is_unknown_not_a_refusal_and_the_text_is_not_sent_again(db, twilio, fast_retries,
                                                                                 create_user, lookup_fault):
    message = _crisis_reply(db, create_user, "+15555550188")
    twilio.fault("timeout", 1)  # Twilio takes the text, answers too late
    assert outbox.dispatch_due("w1")["retried"] == 1
    twilio.fault(lookup_fault, 2, on="list")  # then asking Twilio whether it has it fails, twice
    for _ in range(2):
        assert outbox.dispatch_due("w1")["retried"] == 1
        row = reload(db, message)
        assert row.status is MessageStatus.PENDING and row.uncertain and "lookup" in row.last_error
    assert outbox.dispatch_due("w1")["sent"] == 1
    received = twilio.messages(body=message.body)
    assert len(received) == 1 and reload(db, message).provider_sid == received[0]["sid"]
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "message_undeliverable")) is None


def test_a_last_attempt_that_cannot_ask_twilio_is_not_resent_and_ops_are_told(app, db, twilio, fast_retries,
                                                                              create_user, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    message = _crisis_reply(db, create_user, "+15555550189")
    twilio.fault("timeout", 1)
    assert outbox.dispatch_due("w1")["retried"] == 1
    twilio.fault("429", 1, on="list")
    assert outbox.dispatch_due("w1")["failed"] == 1
    row = reload(db, message)
    assert row.status is MessageStatus.FAILED and row.uncertain and "unknown" in row.last_error
    assert len(twilio.messages(body=message.body)) == 1  # never sent blindly
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "message_undeliverable")) is None
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "text_state_unknown"))
    assert alert is not None and alert.recipient == "ops" and message.body not in alert.summary


def _crisis_reply(db, create_user, phone: str) -> OutboundMessage:
    patient = create_user("patient")
    message = outbox.enqueue(phone, unique_body(), "crisis_reply", priority=MessagePriority.CRISIS,
                             patient_id=patient.id)
    db.session.commit()
    return message


@pytest.mark.parametrize("earlier_faults", [[], ["429"], ["timeout"]])
def test_a_last_attempt_that_timed_out_but_reached_twilio_ends_sent_without_an_alert(app, db, twilio, create_user,
                                                                                   fast_retries, monkeypatch,
                                                                                   earlier_faults):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", len(earlier_faults) + 1)
    message = _crisis_reply(db, create_user, "+12125550126")
    for fault in earlier_faults:
        twilio.fault(fault, 1)
        assert outbox.dispatch_due("w1")["retried"] == 1
    twilio.fault("timeout", 1)  # the final allowed attempt: Twilio takes the text, answers too late
    twilio.seed("+12125550126", 1200)  # and many more texts to the number, newer than the first attempt
    counts = outbox.dispatch_due("w1")
    received = twilio.messages(body=message.body)
    assert len(received) == 1, received
    assert counts["sent"] == 1, counts
    message = reload(db, message)
    assert message.status is MessageStatus.SENT and message.provider_sid == received[0]["sid"]
    assert not message.uncertain and message.last_error is None
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.patient_id == message.patient_id)) is None


def test_a_last_attempt_whose_text_never_reached_twilio_fails_and_alerts(app, db, twilio, create_user,
                                                                         fast_retries, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    message = _crisis_reply(db, create_user, "+12125550127")
    twilio.fault("500", 1)  # Twilio may have taken it (a 5xx): it is looked up, and is not there
    assert outbox.dispatch_due("w1")["failed"] == 1
    message = reload(db, message)
    assert message.status is MessageStatus.FAILED and message.uncertain and "gave up" in message.last_error
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.patient_id == message.patient_id)) is not None
    assert twilio.messages(body=message.body) == []


def test_a_permanent_refusal_fails_at_once_and_alerts_without_phi(db, twilio, create_user):
    patient = create_user("patient")
    message = outbox.enqueue("+12125550123", unique_body(), "crisis_reply", priority=MessagePriority.CRISIS,
                             patient_id=patient.id)
    db.session.commit()
    twilio.fault("400", 1)
    assert outbox.dispatch_due("w1")["failed"] == 1
    message = reload(db, message)
    assert message.status is MessageStatus.FAILED and message.attempts == 1 and "21211" in message.last_error
    alert = db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.patient_id == patient.id))
    assert alert.kind == "message_undeliverable" and alert.urgency == "routine"
    assert alert.summary == "A text to the patient could not be delivered."


def test_it_gives_up_after_the_maximum_attempts(app, db, twilio, create_user, fast_retries, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    patient = create_user("patient")
    message = outbox.enqueue("+12125550124", unique_body(), "crisis_reply", priority=MessagePriority.CRISIS,
                             patient_id=patient.id)
    db.session.commit()
    twilio.fault("429", 10)
    assert [outbox.dispatch_due("w1")["retried"], outbox.dispatch_due("w1")["retried"]] == [1, 1]
    assert outbox.dispatch_due("w1")["failed"] == 1
    message = reload(db, message)
    assert message.status is MessageStatus.FAILED and message.attempts == 3 and "gave up" in message.last_error
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.patient_id == patient.id)) is not None
    assert twilio.messages(body=message.body) == []


def test_a_dispatcher_killed_after_twilios_201_does_not_cause_a_second_send(db, twilio):
    """The dead dispatcher sent the text and died before recording it: its row is `sending` under
    a lease that runs out; the next dispatcher finds the text in Twilio's log and records it."""
    body = unique_body()
    message = staff_text(db, body)
    sid = sms.send(ON_CALL, body)  # what the dead dispatcher got through
    message.status, message.lease_owner, message.attempts = MessageStatus.SENDING, "dead-host:4242", 1
    message.lease_until = now() - timedelta(seconds=1)
    db.session.commit()
    counts = outbox.dispatch_due("w2")
    assert counts["sent"] == 1
    assert [m["sid"] for m in twilio.messages(body=body)] == [sid]
    message = reload(db, message)
    assert message.status is MessageStatus.SENT and message.provider_sid == sid and message.attempts == 2


def test_two_identical_texts_are_two_messages(db, twilio):
    """Recovery never takes another row's SID: an uncertain row whose text never arrived is sent."""
    body = unique_body()
    first = staff_text(db, body)
    outbox.dispatch_due("w1")
    second = staff_text(db, body)
    second.uncertain = True
    db.session.commit()
    outbox.dispatch_due("w1")
    assert len(twilio.messages(body=body)) == 2
    assert reload(db, first).provider_sid != reload(db, second).provider_sid


def test_backoff_doubles_from_the_base_with_jitter_and_a_cap(app, db, twilio, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_SECONDS", 30)
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_MAX_SECONDS", 100)
    body = unique_body()
    message = staff_text(db, body)
    twilio.fault("500", 3)
    expected = [30, 60, 100]  # the third is capped
    at = now()
    for waited in expected:
        with time_machine.travel(at, tick=True):
            assert outbox.dispatch_due("w1")["retried"] == 1
            message = reload(db, message)
            delay = (message.not_before - at).total_seconds()
            assert waited <= delay <= waited * 1.1 + 1, (waited, delay)
            assert outbox.dispatch_due("w1")["claimed"] == 0  # not due before its time
        at = message.not_before + timedelta(seconds=1)
    with time_machine.travel(at, tick=True):
        assert outbox.dispatch_due("w1")["sent"] == 1
    assert len(twilio.messages(body=body)) == 1


def test_dedupe_key_makes_enqueue_idempotent(db):
    first = outbox.enqueue(ON_CALL, "one", "alert", priority="staff", dedupe_key="test:1")
    db.session.commit()
    again = outbox.enqueue(ON_CALL, "one", "alert", priority="staff", dedupe_key="test:1")
    assert again.id == first.id
    assert len(db.session.scalars(select(OutboundMessage).where(OutboundMessage.dedupe_key == "test:1")).all()) == 1


def test_bodies_are_short(db):
    with pytest.raises(ValueError):
        outbox.enqueue(ON_CALL, "x" * 321, "alert", priority="staff")
    outbox.enqueue(ON_CALL, "x" * 320, "alert", priority="staff")


# --------------------------------------------------------------------------- consent and quiet hours

# 03:00 UTC on 15 January: 22:00 in New York (quiet), 19:00 in Los Angeles (day).
EVENING = datetime(2026, 1, 15, 3, 0, tzinfo=timezone.utc)


def test_quiet_hours_hold_routine_texts_until_8_in_the_patients_zone(db, create_user):
    new_york = create_user("patient", time_zone="America/New_York", phone="+12125550161")
    los_angeles = create_user("patient", time_zone="America/Los_Angeles", phone="+13105550162")
    opted_in(db, new_york)
    opted_in(db, los_angeles)
    with time_machine.travel(EVENING, tick=False):
        ny = outbox.enqueue("+12125550161", "Reminder", "appointment_reminder", priority="routine",
                            patient_id=new_york.id)
        la = outbox.enqueue("+13105550162", "Reminder", "appointment_reminder", priority="routine",
                            patient_id=los_angeles.id)
        crisis = outbox.enqueue("+12125550161", "Call 988", "crisis_reply", priority="crisis", patient_id=new_york.id)
        reply = outbox.enqueue("+12125550161", "Got it", "reply", priority="reply", patient_id=new_york.id)
        staff = outbox.enqueue(ON_CALL, "Alert", "alert", priority="staff")
    assert ny.not_before == datetime(2026, 1, 15, 13, 0, tzinfo=timezone.utc)  # 8:00 EST
    assert la.not_before == EVENING
    assert crisis.not_before == reply.not_before == staff.not_before == EVENING
    # Before 8:00 the same day: held until that morning.
    with time_machine.travel(datetime(2026, 1, 15, 11, 30, tzinfo=timezone.utc), tick=False):  # 6:30 EST
        early = outbox.enqueue("+12125550161", "Reminder", "appointment_reminder", priority="routine",
                               patient_id=new_york.id)
    assert early.not_before == datetime(2026, 1, 15, 13, 0, tzinfo=timezone.utc)


def test_quiet_hours_are_checked_again_at_dispatch(db, create_user):
    los_angeles = create_user("patient", time_zone="America/Los_Angeles", phone="+13105550163")
    opted_in(db, los_angeles)
    with time_machine.travel(EVENING, tick=False):  # 19:00 in Los Angeles: due now
        message = outbox.enqueue("+13105550163", "Reminder", "appointment_reminder", priority="routine",
                                 patient_id=los_angeles.id)
        db.session.commit()
    with time_machine.travel(EVENING + timedelta(hours=3), tick=False):  # 22:00 there: held
        assert outbox.dispatch_due("w1")["held"] == 1
    message = reload(db, message)
    assert message.status is MessageStatus.PENDING and message.attempts == 0
    assert message.not_before == datetime(2026, 1, 15, 16, 0, tzinfo=timezone.utc)  # 8:00 PST


def test_texts_are_suppressed_without_opt_in_and_after_opt_out(db, create_user):
    patient = create_user("patient", phone="+12125550171")
    routine = outbox.enqueue("+12125550171", "Hello", "appointment_reminder", priority="routine",
                             patient_id=patient.id)
    assert routine.status is MessageStatus.SUPPRESSED and routine.last_error == "not opted in"
    consent = opted_in(db, patient)
    consent.opted_out_at, consent.opt_out_keyword = now(), "STOP"
    db.session.commit()
    reply = outbox.enqueue("+12125550171", "Thanks", "reply", priority="reply", patient_id=patient.id)
    assert reply.status is MessageStatus.SUPPRESSED and reply.last_error == "opted out"
    crisis = outbox.enqueue("+12125550171", "Call 988", "crisis_reply", priority="crisis", patient_id=patient.id)
    assert crisis.status is MessageStatus.PENDING


def test_an_opt_out_before_dispatch_suppresses_the_text(db, create_user):
    patient = create_user("patient", phone="+12125550172")
    consent = opted_in(db, patient)
    with time_machine.travel(datetime(2026, 1, 15, 17, 0, tzinfo=timezone.utc), tick=False):
        message = outbox.enqueue("+12125550172", "Hello", "appointment_reminder", priority="routine",
                                 patient_id=patient.id)
        db.session.commit()
        consent.opted_out_at = now()
        db.session.commit()
        assert outbox.dispatch_due("w1")["suppressed"] == 1
    assert reload(db, message).status is MessageStatus.SUPPRESSED


def test_a_shared_number_does_not_carry_one_patients_consent_to_another(db, create_user):
    owner = create_user("patient", phone="+12125550172")
    housemate = create_user("patient", phone="+12125550172")
    opted_in(db, owner)
    mine = outbox.enqueue("+12125550172", "Hello", "appointment_reminder", priority="routine", patient_id=owner.id)
    theirs = outbox.enqueue("+12125550172", "Hello", "appointment_reminder", priority="routine",
                            patient_id=housemate.id)
    assert mine.status is MessageStatus.PENDING
    assert theirs.status is MessageStatus.SUPPRESSED and theirs.last_error == "not opted in"


def test_crisis_and_staff_texts_are_claimed_before_a_backlog_of_routine_ones(db, twilio, create_user):
    patient = create_user("patient", phone="+12125550173")
    opted_in(db, patient)
    with time_machine.travel(datetime(2026, 1, 15, 17, 0, tzinfo=timezone.utc), tick=True):  # noon in New York
        for n in range(3):
            outbox.enqueue("+12125550173", unique_body(f"Routine {n}"), "appointment_reminder", priority="routine",
                           patient_id=patient.id, not_before=now() - timedelta(minutes=10))
        crisis = outbox.enqueue("+12125550173", unique_body("Call 988"), "crisis_reply", priority="crisis",
                                patient_id=patient.id)
        page = outbox.enqueue(ON_CALL, unique_body("Urgent alert"), "alert", priority="staff")
        db.session.commit()
        outbox.dispatch_due("w1", limit=2)
    assert reload(db, crisis).status is MessageStatus.SENT and reload(db, page).status is MessageStatus.SENT
    assert len(twilio.messages(to="+12125550173")) == 1  # no routine text went before them


def test_the_texts_around_a_session_are_not_held_by_quiet_hours_but_still_need_opt_in(db, create_user):
    patient = create_user("patient", phone="+12125550174")
    stranger = create_user("patient", phone="+12125550175")
    opted_in(db, patient)
    with time_machine.travel(EVENING, tick=False):  # 22:00 in New York
        post = outbox.enqueue("+12125550174", "How are you?", "check_in_prompt_post", priority="routine",
                              patient_id=patient.id)
        next_day = outbox.enqueue("+12125550174", "Good morning", "check_in_prompt_next_day", priority="routine",
                                  patient_id=patient.id)
        not_agreed = outbox.enqueue("+12125550175", "How are you?", "check_in_prompt_post", priority="routine",
                                    patient_id=stranger.id)
    assert post.not_before == EVENING and next_day.not_before > EVENING
    assert not_agreed.status is MessageStatus.SUPPRESSED


def test_the_consent_of_a_number_is_read_once_to_enqueue_and_once_to_dispatch(db, twilio, create_user, count_queries):
    patient = create_user("patient", phone="+12125550176")
    opted_in(db, patient)

    def consent_reads(counter) -> int:
        return sum(1 for s in counter.statements if s.lstrip().upper().startswith("SELECT") and "sms_consents" in s)

    with time_machine.travel(datetime(2026, 1, 15, 17, 0, tzinfo=timezone.utc), tick=True):  # noon in New York
        # no patient: the consent says both whether it may go and in whose zone it is judged
        with count_queries() as enqueued:
            message = outbox.enqueue("+12125550176", unique_body("Hello"), "appointment_reminder",
                                     priority="routine")
        db.session.commit()
        with count_queries() as dispatched:
            assert outbox.dispatch_due("w1")["sent"] == 1
    assert reload(db, message).status is MessageStatus.SENT
    assert (consent_reads(enqueued), consent_reads(dispatched)) == (1, 1)


def test_drain_sends_batch_after_batch_until_one_is_short_or_the_deadline_passes(db, twilio):
    for n in range(5):
        staff_text(db, unique_body(f"Drained {n}"))
    assert outbox.drain("w1", limit=2, deadline_seconds=0) == {
        "claimed": 2, "sent": 2, "retried": 0, "failed": 0, "held": 0, "suppressed": 0}  # past it: one batch
    assert outbox.drain("w1", limit=2)["sent"] == 3  # 2, then 1: nothing more is due
    assert outbox.drain("w1", limit=2)["claimed"] == 0

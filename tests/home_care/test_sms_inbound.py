"""Consent and carrier rules: opt-in recorded with wording and time, STOP/START/HELP, signed and
idempotent inbound texts, the generic answers, and the outbox as ops read it."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from telehealth.clock import now
from telehealth.models import AuditEvent, InboundMessage, MessagePriority, MessageStatus, OutboundMessage, SmsConsent
from telehealth.services.messaging import outbox
from tests.conftest import error_of

PATH = "/webhooks/twilio/sms"


def sms_fields(from_: str, body: str, sid: str | None = None) -> dict:
    sid = sid or "SM" + uuid.uuid4().hex
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": from_, "To": "+15005550006",
            "Body": body, "NumMedia": "0", "ApiVersion": "2010-04-01"}


def post_sms(client, app, from_: str, body: str, sid: str | None = None, token: str | None = None):
    fields = sms_fields(from_, body, sid)
    url = app.config["PUBLIC_BASE_URL"] + PATH
    signature = RequestValidator(token or app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, fields)
    return client.post(PATH, data=fields, headers={"X-Twilio-Signature": signature})


def texts_to(db, phone: str) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == phone)
                                   .order_by(OutboundMessage.id)))


def consent_of(db, phone: str) -> SmsConsent | None:
    return db.session.scalar(select(SmsConsent).where(SmsConsent.phone_e164 == phone))


@pytest.fixture
def subscribed(db, create_user, client, auth):
    """A patient who agreed to texts through the API."""
    patient = auth.as_role("patient", phone="+12125550181")
    assert client.post("/api/v1/me/sms-consent", json={"agree": True}).status_code == 200
    auth.logout()
    return patient


# --------------------------------------------------------------------------- consent API


def test_opt_in_records_the_exact_wording_and_time_and_texts_a_confirmation(client, auth, db):
    patient = auth.as_role("patient", phone="+12125550182")
    shown = client.get("/api/v1/me/sms-consent").get_json()
    assert shown["opted_in"] is False and "Msg & data rates may apply" in shown["wording"]
    assert "+12125550182" in shown["wording"] and "STOP" in shown["wording"]
    before = now()
    answer = client.post("/api/v1/me/sms-consent", json={"agree": True}).get_json()
    assert answer["opted_in"] is True and answer["agreed_wording_version"] == shown["wording_version"]
    consent = consent_of(db, "+12125550182")
    assert consent.user_id == patient.id and consent.wording == shown["wording"]
    assert consent.wording_version == shown["wording_version"] and consent.opted_in_at >= before
    [confirmation] = texts_to(db, "+12125550182")
    assert confirmation.purpose == "opt_in_confirmation" and confirmation.priority is MessagePriority.REPLY
    assert confirmation.status is MessageStatus.PENDING
    assert "STOP" in confirmation.body and "HELP" in confirmation.body
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.resource_type == "sms_consent"))


def test_agree_must_be_true(client, auth, db):
    auth.as_role("patient", phone="+12125550183")
    r = client.post("/api/v1/me/sms-consent", json={"agree": False})
    assert r.status_code == 422 and "agree" in error_of(r)["fields"]
    assert consent_of(db, "+12125550183") is None


def test_withdrawing_stops_routine_texts(client, auth, db):
    patient = auth.as_role("patient", phone="+12125550184")
    client.post("/api/v1/me/sms-consent", json={"agree": True})
    answer = client.post("/api/v1/me/sms-consent/withdraw", json={}).get_json()
    assert answer["opted_in"] is False and answer["opted_out_at"]
    text = outbox.enqueue("+12125550184", "Reminder", "appointment_reminder", priority="routine",
                          patient_id=patient.id)
    assert text.status is MessageStatus.SUPPRESSED


# --------------------------------------------------------------------------- webhook


def test_a_bad_or_missing_signature_is_403_and_writes_nothing(client, app, db):
    before = db.session.scalar(select(func.count()).select_from(InboundMessage))
    r = post_sms(client, app, "+12125550185", "HELP", token="not-the-token")
    assert r.status_code == 403 and error_of(r)["code"] == "bad_signature"
    r = client.post(PATH, data=sms_fields("+12125550185", "HELP"))
    assert r.status_code == 403 and error_of(r)["code"] == "bad_signature"
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == before
    assert texts_to(db, "+12125550185") == []


def test_the_answer_is_empty_twiml_and_a_redelivery_does_nothing(client, app, db):
    sid = "SM" + uuid.uuid4().hex
    first = post_sms(client, app, "+12125550186", "hello?", sid=sid)
    assert first.status_code == 200 and first.mimetype == "text/xml"
    assert "<Response" in first.get_data(as_text=True) and "<Message" not in first.get_data(as_text=True)
    again = post_sms(client, app, "+12125550186", "hello?", sid=sid)
    assert again.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)
                             .where(InboundMessage.message_sid == sid)) == 1
    assert len(texts_to(db, "+12125550186")) == 1


def test_an_unknown_number_gets_a_polite_generic_answer(client, app, db):
    post_sms(client, app, "+12125550187", "who is this")
    [answer] = texts_to(db, "+12125550187")
    assert answer.purpose == "unknown_sender" and answer.priority is MessagePriority.REPLY
    assert answer.patient_id is None and answer.status is MessageStatus.PENDING
    inbound = db.session.scalar(select(InboundMessage).where(InboundMessage.from_phone == "+12125550187"))
    assert inbound.handled_as == "unknown" and inbound.body == "who is this"


def test_a_patients_text_goes_to_route_reply(client, app, db, subscribed):
    post_sms(client, app, "+12125550181", "feeling ok today")
    texts = texts_to(db, "+12125550181")
    assert [t.purpose for t in texts] == ["opt_in_confirmation", "reply_ack"]
    assert texts[-1].patient_id == subscribed.id and texts[-1].priority is MessagePriority.REPLY
    inbound = db.session.scalar(select(InboundMessage).where(InboundMessage.from_phone == "+12125550181"))
    assert inbound.handled_as == "reply" and inbound.user_id == subscribed.id


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                                  "REVOKE", "OPT OUT", "opt out", "OptOut"])
def test_each_stop_word_opts_out_at_once_cancels_pending_texts_and_confirms_once(client, app, db, subscribed, word):
    phone = "+12125550181"
    routine = outbox.enqueue(phone, "Reminder", "appointment_reminder", priority="routine", patient_id=subscribed.id)
    crisis = outbox.enqueue(phone, "Call or text 988", "crisis_reply", priority="crisis", patient_id=subscribed.id)
    db.session.commit()
    assert post_sms(client, app, phone, word).status_code == 200
    consent = consent_of(db, phone)
    assert consent.opted_out_at is not None and not consent.is_active
    db.session.expire_all()
    assert db.session.get(OutboundMessage, routine.id).status is MessageStatus.CANCELLED
    assert db.session.get(OutboundMessage, crisis.id).status is MessageStatus.PENDING
    assert db.session.get(OutboundMessage, texts_to(db, phone)[0].id).status is MessageStatus.CANCELLED  # opt-in note
    post_sms(client, app, phone, word)  # again: no second confirmation
    confirmations = [t for t in texts_to(db, phone) if t.purpose == "opt_out_confirmation"]
    assert len(confirmations) == 1 and confirmations[0].status is MessageStatus.PENDING
    assert "START" in confirmations[0].body
    later = outbox.enqueue(phone, "Reminder", "appointment_reminder", priority="routine", patient_id=subscribed.id)
    assert later.status is MessageStatus.SUPPRESSED


def test_stop_inside_a_sentence_is_not_a_keyword(client, app, db, subscribed):
    post_sms(client, app, "+12125550181", "please don't stop the reminders")
    assert consent_of(db, "+12125550181").is_active


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_words_resume(client, app, db, subscribed, word):
    post_sms(client, app, "+12125550181", "STOP")
    assert not consent_of(db, "+12125550181").is_active
    post_sms(client, app, "+12125550181", word)
    consent = consent_of(db, "+12125550181")
    assert consent.is_active and consent.opted_out_at is None
    assert texts_to(db, "+12125550181")[-1].purpose == "opt_in_confirmation"
    text = outbox.enqueue("+12125550181", "Reminder", "appointment_reminder", priority="routine",
                          patient_id=subscribed.id)
    assert text.status is MessageStatus.PENDING


def test_help_names_the_program_frequency_rates_and_support(client, app, db, subscribed):
    post_sms(client, app, "+12125550181", "STOP")
    post_sms(client, app, "+12125550181", "help")  # answered even after STOP, as carriers require
    answer = texts_to(db, "+12125550181")[-1]
    assert answer.purpose == "help" and answer.status is MessageStatus.PENDING
    assert app.config["SMS_PROGRAM_NAME"] in answer.body and "Msg & data rates may apply" in answer.body
    assert app.config["SMS_SUPPORT_CONTACT"] in answer.body and "msgs/week" in answer.body
    assert len(answer.body) <= 320


# --------------------------------------------------------------------------- through the local Twilio


def test_a_text_delivered_by_twilio_is_answered_through_the_outbox(app, committed, live_server, twilio):
    twilio.configure(webhook_url=live_server + PATH, public_url=app.config["PUBLIC_BASE_URL"] + PATH)
    reply = twilio.inbound("+12125550188", "HELP")
    assert reply["status"] == 200 and "<Response" in reply["reply"]
    again = twilio.inbound("+12125550188", "HELP", message_sid=reply["message_sid"])  # Twilio retries
    assert again["status"] == 200
    outbox.dispatch_due("test")
    [sent] = twilio.messages(to="+12125550188")
    assert "Msg & data rates may apply" in sent["body"]
    twilio.configure(auth_token="someone-else")
    assert twilio.inbound("+12125550188", "HELP")["status"] == 403


# --------------------------------------------------------------------------- the outbox as ops read it


def test_ops_read_the_outbox_paged_and_audited(client, auth, db):
    for n in range(3):
        outbox.enqueue("+13125550190", f"Your package {n} has shipped.", "shipment_shipped", priority="routine")
    db.session.commit()
    auth.as_role("ops")
    page = client.get("/api/v1/admin/sms-outbox?limit=2").get_json()
    assert [i["body"] for i in page["items"]] == ["Your package 2 has shipped.", "Your package 1 has shipped."]
    assert page["next_before_id"]
    rest = client.get(f"/api/v1/admin/sms-outbox?limit=2&before_id={page['next_before_id']}").get_json()
    assert [i["body"] for i in rest["items"]] == ["Your package 0 has shipped."] and rest["next_before_id"] is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.resource_type == "sms_message")) == 3


# (purpose, category ops see, whether ops may read the words)
OPS_VIEW = [("crisis_reply", "care_message", False), ("check_in_answer_post", "care_message", False),
            ("reply_ack", "care_message", False), ("check_in_contact", "care_message", False),
            ("something_new", "care_message", False), ("alert", "staff_page", False),
            ("appointment_reminder", "reminder", False), ("check_in_prompt_pre", "reminder", False),
            ("measure_retake", "reminder", False), ("shipment_delivered", "shipping", True),
            ("opt_out_confirmation", "account", True), ("help", "account", True)]


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_see_logistics_of_each_text_never_its_clinical_purpose_priority_or_words(client, auth, db, role):
    for purpose, _, _ in OPS_VIEW:
        outbox.enqueue("+13125550190", f"words of {purpose}: what you told us needs attention now",
                       purpose, priority="crisis" if purpose == "crisis_reply" else "reply")
    db.session.commit()
    auth.as_role(role)
    items = client.get("/api/v1/admin/sms-outbox?limit=50").get_json()["items"][::-1]
    assert [(i["category"], i["body"] is not None) for i in items] == [(c, shown) for _, c, shown in OPS_VIEW]
    for item in items:
        assert "purpose" not in item and "priority" not in item
        assert {"status", "not_before", "last_error", "attempts", "to"} <= set(item)
    assert "crisis" not in str(items) and "attention" not in str([i for i in items if i["category"] != "account"
                                                                    and i["category"] != "shipping"])


def test_sms_receive_delivers_a_signed_text_like_twilio(app, committed, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    result = app.test_cli_runner().invoke(args=["sms-receive", "+12125550189", "HELP"])
    assert result.exit_code == 0 and result.output.startswith("200: delivered"), result.output
    [answer] = texts_to(committed, "+12125550189")
    assert answer.purpose == "help"


# --------------------------------------------------------------------------- fail safe: crisis by intent

# The kinds an outside test pass found missed by a word list: not being safe, a bare distress signal,
# veiled intent about ending things, fear of what one might do.
MISSED_KINDS = ["i dont feel safe", "not safe right now", "please someone", "sos", "help me",
                "i wont be around much longer", "goodbye everyone this is my last text",
                "im scared of what i might do", "i cant trust myself tonight"]
ON_CALL = "+13125550198"


@pytest.mark.parametrize("words", MISSED_KINDS)
def test_each_missed_kind_with_no_check_in_open_gets_988_and_911_and_pages_on_call(client, app, db, subscribed,
                                                                                   monkeypatch, words):
    from telehealth.models import AlertStatus, ClinicalAlert

    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", ON_CALL)
    post_sms(client, app, "+12125550181", words)
    [reply] = [t for t in texts_to(db, "+12125550181") if t.purpose == "crisis_reply"]
    assert "988" in reply.body and "911" in reply.body and reply.priority is MessagePriority.CRISIS
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.patient_id) == ("crisis", "urgent", subscribed.id)
    assert alert.status is AlertStatus.DELIVERED
    [page] = texts_to(db, ON_CALL)
    assert page.priority is MessagePriority.STAFF


@pytest.mark.parametrize("words", ["idk feeling weird", "hmm", "who is this", "?"])
def test_free_text_outside_any_session_gets_988_and_911_and_a_routine_alert(client, app, db, subscribed, words):
    """Outside a session's day the reply names 988 and 911 and the care team reads the text in their
    list (routine: nobody is paged; a person is paged for unclear texts only around a session)."""
    from telehealth.models import ClinicalAlert

    post_sms(client, app, "+12125550181", words)
    reply = texts_to(db, "+12125550181")[-1]
    assert reply.purpose == "reply_ack" and "988" in reply.body and "911" in reply.body
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.recipient) == ("unclear_reply", "routine", "care_team")


def test_help_also_names_988_and_911_and_passes_the_content_rules(client, app, db, subscribed):
    from telehealth.services.messaging.message_content import check_sms_body

    post_sms(client, app, "+12125550181", "HELP")
    answer = texts_to(db, "+12125550181")[-1]
    assert answer.purpose == "help" and "988" in answer.body and "911" in answer.body
    check_sms_body(answer.body, allow_crisis_resources=True)


def test_an_unknown_numbers_answer_names_988_and_911(client, app, db):
    post_sms(client, app, "+12125550179", "is this the clinic")
    [answer] = texts_to(db, "+12125550179")
    assert answer.purpose == "unknown_sender" and "988" in answer.body and "911" in answer.body


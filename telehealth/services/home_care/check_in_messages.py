"""At-home session check-ins by SMS: the prompts, the second prompt, the escalation, and the
patient's replies read in the context of their open check-in.

The rules of a session (gates, blood-pressure bands, grading of side effects, pauses) live in
`home_sessions` and `session_gates`; this module only turns them into texts and back. Every text
goes through the outbox with a dedupe key, every alert through `alerts.raise_once`, and each
check-in row is claimed under a lock before it moves, so two scheduler processes never send a
prompt twice nor raise two alerts for one silence.

Timeline of a check-in (policy: `check_in_reprompt_hours`, 2 h by default): prompted when due (a
routine text, opt-in only; the next-day one is held to 8:00-21:00 in the patient's zone and its
clock starts when it may go, while those around the session itself go at the time the patient chose);
no answer after 2 h, a second prompt; still none 2 h later, the care team is alerted (urgent after
a session's post check-in, routine the next day) and, by policy, the sitter (or else the emergency
contact) is asked to check on the patient. The check-in before a session is not escalated: without
its reading the session simply cannot start.

Fail safe: a reply is confidently understood only when every word is accounted for (numbers, known
side effects, the sitter's yes or no, filler like "ok", "thanks", "none"). One the check-in cannot
read, or with any word left over ("7 but im not ok", "6 6 fine 🔫"), is never answered without
CRISIS_LINE (988 and 911; what parses is still recorded, unless the text held crisis language); after
a session (an open post-session or next-day check-in, or a session started or ended within
`unclear_reply_alert_hours_after_session`) it raises an urgent `unclear_reply` alert paged to the
on-call physician, who must acknowledge it (the next session waits for that: gate `crisis_alert`);
otherwise a routine one for the care team. So does a text outside any check-in. See `route_reply`.

Texts say nothing clinical (checked by `message_content` in the outbox): "reading", not the name of
a measurement; "session", never a drug.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from telehealth.clock import now
from telehealth.errors import ServiceError
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.home_care.home_sessions import BpBand, CheckIn, CheckInKind, CheckInStatus, HomeSession, SessionStatus
from telehealth.models.messaging.messaging import InboundMessage, MessagePriority
from telehealth.policy import current_policy
from telehealth.services.home_care import home_sessions, reply_parsing, side_effects
from telehealth.services.messaging import notifications, outbox
from telehealth.services.platform import audit
from telehealth.services.platform.alerts import raise_once
from telehealth.services.screening import crisis, crisis_language
from telehealth.services.home_care.session_gates import evaluate_gates

PROMPTS = {
    CheckInKind.PRE: "{name}: time for your check-in. Reply with your reading like 128/82 and YES if your sitter "
                     "is with you.",
    CheckInKind.POST: "{name}: how are you feeling from 1 to 10, and any side effects? Reply like: 7 none",
    CheckInKind.NEXT_DAY: "{name}: good morning. Reply with your mood 1-10, your sleep 1-10 and any side effects, "
                          "like: 7 6 none",
}
REMINDER_PREFIX = "Reminder: "

GO = ("GO: all checks passed. You may begin when ready. Keep your sitter with you, and no driving until "
      "tomorrow.")
NOT_YET = "Not yet: {missing}. Reply again when ready."
NO_GO = ("NO-GO for today: your reading is above the safe range for a session. Your care team has been told. "
         "Please rest and try another day.")
URGENT = ("NO-GO: your reading is very high. Please get urgent care now. If you have chest pain, a severe "
          "headache or trouble speaking, call 911.")
THANKS = "Thank you for checking in."
REVIEW = "Thank you. A physician will review what you told us. Reply to this text if it gets worse."
SERIOUS = ("What you told us needs attention now. If it is happening now, your sitter should call 911. A "
           "physician has been alerted and will contact you.")
# The line every reply to a text not confidently understood carries (and the HELP answer, and the
# acknowledgement): a person in crisis who words it in a way no parser reads still gets 988 and 911.
CRISIS_LINE = "If you are in crisis, call or text 988; in an emergency call 911."
CRISIS_REPLY = ("If you are in danger call 911. Call or text 988 (Suicide & Crisis Lifeline) or text HOME to "
                "741741. A clinician has been alerted and will contact you.")
SITTER_ASK = ("{program}: {first} asked us to contact you. They have not answered our check-in. Please check on "
              "them; if they need urgent help, call 911.")

# What a failing gate asks of the patient, in words fit for a text (the reasons are in the app).
GATE_ASKS = {"sitter": "reply YES when your sitter is with you",
             "blood_pressure": "send a new reading like 128/82"}


def _claim(check_in_id: int, status: CheckInStatus) -> CheckIn | None:
    """The check-in, locked, if it is still in `status` (another scheduler may have moved it)."""
    return db.session.scalar(select(CheckIn).where(CheckIn.id == check_in_id, CheckIn.status == status)
                             .with_for_update(skip_locked=True))


def sweep() -> dict[str, int]:
    """The scheduler's check-in job: sessions never started become missed, then prompt what is
    due, prompt again, escalate silence."""
    at = now()
    counts = {"missed": home_sessions.mark_missed_sessions(at), "prompted": 0, "reminded": 0, "escalated": 0}
    db.session.commit()
    todo = home_sessions.check_ins_needing_action(at)
    db.session.commit()
    for row in todo["prompt"]:
        check_in = _claim(row.id, CheckInStatus.PENDING)
        if check_in is not None:
            _supersede_older(check_in)
            message = _text_patient(check_in, PROMPTS[check_in.kind], "prompt")
            # the wait for an answer starts when the text may go (quiet hours may hold a next-day one)
            check_in.prompt(max(at, message.not_before) if message else at)
            counts["prompted"] += 1
        db.session.commit()
    for row in todo["remind"]:
        check_in = _claim(row.id, CheckInStatus.PROMPTED)
        if check_in is not None:
            message = _text_patient(check_in, REMINDER_PREFIX + PROMPTS[check_in.kind], "remind")
            check_in.remind(max(at, message.not_before) if message else at)
            counts["reminded"] += 1
        db.session.commit()
    for row in todo["escalate"]:
        check_in = _claim(row.id, CheckInStatus.REMINDED)
        if check_in is not None:
            counts["escalated"] += _escalate(check_in, at)
        db.session.commit()
    return counts


def _supersede_older(check_in: CheckIn) -> None:
    """A new check-in is asked: the patient's older ones that were asked and escalated without an
    answer close (the care team already has them), so a reply goes to the question just sent."""
    patient = db.session.get(User, check_in.session.patient_id)
    for older in home_sessions.open_check_ins(patient):
        if older.id != check_in.id and older.status is CheckInStatus.ESCALATED:
            older.expire()


def _text_patient(check_in: CheckIn, template: str, step: str):
    patient = db.session.get(User, check_in.session.patient_id)
    phone = patient.patient_profile.phone_e164 if patient.patient_profile else None
    if not phone:
        return None
    return outbox.enqueue(phone, template.format(name=outbox.program_name()),
                          f"check_in_{step}_{check_in.kind.value}",
                          priority=MessagePriority.ROUTINE, patient_id=patient.id,
                          dedupe_key=home_sessions.check_in_text_key(check_in.id, step))


def _escalate(check_in: CheckIn, at) -> int:
    if check_in.kind is CheckInKind.PRE:
        check_in.expire()  # no reading, no session: nothing to escalate
        return 0
    home_sessions.escalate_check_in(check_in, at)
    session = check_in.session
    patient = db.session.get(User, session.patient_id)
    if current_policy().check_in_escalation_contacts_sitter:
        contact = _contact_for(check_in, session, patient)
        if contact:
            # `reply`: at any hour and without an opt-in (they never signed up), but a STOP they sent holds
            outbox.enqueue(contact, SITTER_ASK.format(program=outbox.program_name(),
                                                      first=patient.patient_profile.legal_first_name),
                           "check_in_contact", priority=MessagePriority.REPLY, patient_id=patient.id,
                           dedupe_key=home_sessions.check_in_text_key(check_in.id, "contact"))
    return 1


def _contact_for(check_in: CheckIn, session: HomeSession, patient: User) -> str | None:
    """After a session, its sitter; the next day (the sitter may have gone home), the emergency contact."""
    emergency = (patient.patient_profile.emergency_contact or {}).get("phone")
    if check_in.kind is CheckInKind.POST and session.sitter_phone:
        return session.sitter_phone
    return emergency or session.sitter_phone


# ------------------------------------------------------------------ replies


def answer_crisis(from_phone: str, user: User | None, inbound: InboundMessage) -> None:
    """Crisis language in any text: 988 and 911 at once (a crisis text: any hour, even after STOP)
    and an urgent alert paged to the on-call physician in the same transaction."""
    outbox.enqueue(from_phone, CRISIS_REPLY, "crisis_reply", priority=MessagePriority.CRISIS,
                   patient_id=user.id if user else None, dedupe_key=f"crisis_reply:{inbound.message_sid}")
    who = "a patient" if user else f"an unknown number ({from_phone})"
    intents = ", ".join(i.replace("_", " ") for i in crisis_language.crisis_intents(inbound.body or ""))
    _page(f"Crisis language ({intents}) in a text from {who}: {(inbound.body or '')[:200]}", user, "crisis")


def _page(summary: str, user: User | None, kind: str) -> None:
    """An urgent alert for the on-call physician, paged at once (as a crisis is), to acknowledge."""
    alert = crisis.alert_on_call(summary, patient_id=user.id if user else None, kind=kind)
    db.session.flush()
    notifications.page_on_call(alert)


def in_session_day(user: User) -> bool:
    """The patient started, or finished, an at-home session within the last
    `unclear_reply_alert_hours_after_session` hours (24 by default)."""
    since = now() - timedelta(hours=current_policy().unclear_reply_alert_hours_after_session)
    return db.session.scalar(
        select(HomeSession.id).where(HomeSession.patient_id == user.id, HomeSession.started_at.is_not(None),
                                     or_(HomeSession.started_at >= since, HomeSession.completed_at >= since,
                                         HomeSession.ended_at >= since)).limit(1)) is not None


def alert_unclear(user: User, inbound: InboundMessage, why: str) -> None:
    """Fail safe: a text not confidently understood around a session pages the on-call physician."""
    _page(f"{why}; read it and contact the patient: {(inbound.body or '')[:200]}", user, "unclear_reply")


@dataclass(frozen=True)
class _Unclear:
    """A check-in answer that could not be read: the hint asking again."""
    hint: str


@dataclass(frozen=True)
class _Unread:
    """A check-in answer read and recorded, with words besides that no parser accounts for: the
    reply to it, which still carries CRISIS_LINE (fail safe)."""
    reply: str


# Crisis language of these intents only names a physical emergency ("3 chest pain"): the text is still
# an answer to a post-session or next-day check-in (grading it pauses treatment). Any other crisis
# language (suicidal ideation, self-harm, an overdose...) is never recorded as an answer.
_RECORDABLE_CRISIS = frozenset({"medical_emergency"})


def route_reply(user: User, inbound: InboundMessage, *, answer: bool = True) -> None:
    """A patient's text that is not a carrier keyword: the answer to their open check-in (the
    soonest one already asked), or an acknowledgement. `answer=False`: the text held crisis language
    and the crisis reply has already gone; nothing is replied, and it is recorded only as the answer
    to a post-session or next-day check-in when all it names is a physical emergency ("3 chest
    pain"): a reading or a sitter's yes is never taken from it, nor a mood from "7 i want to die".

    Fail safe: a text not confidently understood (a parse error, or any word no parser accounts for)
    always carries CRISIS_LINE; after a session (an open post-session or next-day check-in, or within
    `unclear_reply_alert_hours_after_session` of one) it pages the on-call physician (urgent
    `unclear_reply`); otherwise it raises a routine `unclear_reply` alert for the care team, so a
    person reads every text not understood. A patient who texted STOP still gets the one line
    CRISIS_LINE (a direct answer to their own text, sent as a crisis text) and nothing else."""
    check_in = _open_check_in(user)
    if not answer:
        if check_in is None:
            _unprompted(user, inbound)
        elif (check_in.kind is not CheckInKind.PRE
              and set(crisis_language.crisis_intents(inbound.body or "")) <= _RECORDABLE_CRISIS):
            _answer_after(user, check_in, inbound.body or "")
        return
    if check_in is None:
        reply = _unprompted(user, inbound)
        purpose, context = "reply_ack", "A text outside any check-in"
    else:
        text = inbound.body or ""
        reply = _answer_pre(user, check_in, text) if check_in.kind is CheckInKind.PRE else \
            _answer_after(user, check_in, text)
        purpose, context = f"check_in_answer_{check_in.kind.value}", f"An answer to the {check_in.kind.value} check-in"
    understood = not isinstance(reply, (_Unclear, _Unread))
    if isinstance(reply, _Unclear):
        garbled_reading = check_in is not None and check_in.kind is CheckInKind.PRE and not \
            reply_parsing.unread_words(inbound.body or "")
        if not garbled_reading or in_session_day(user):  # "12882": a reading mistyped, asked again
            _alert_not_understood(user, inbound, check_in, context)
        reply = f"{reply.hint} {CRISIS_LINE}"
    elif isinstance(reply, _Unread):
        _alert_not_understood(user, inbound, check_in, context)
        reply = f"{reply.reply} {CRISIS_LINE}"
    consent = outbox.consent_for(inbound.from_phone)
    if not understood and consent is not None and consent.opted_out_at is not None:
        # opted out: no texts (the answer below would be suppressed), except this one line answering
        # their own text, which a person who may be in crisis must not go without
        outbox.enqueue(inbound.from_phone, CRISIS_LINE, "crisis_line", priority=MessagePriority.CRISIS,
                       patient_id=user.id, dedupe_key=f"reply:{inbound.message_sid}")
        return
    _reply(user, inbound, reply, purpose)


def _alert_not_understood(user: User, inbound: InboundMessage, check_in: CheckIn | None, context: str) -> None:
    """After a session (or an open check-in after one), page; otherwise the care team reads it."""
    if (check_in is not None and check_in.kind is not CheckInKind.PRE) or in_session_day(user):
        alert_unclear(user, inbound, f"{context}, not understood")
    else:
        raise_once(f"unclear:{inbound.message_sid}", kind="unclear_reply", urgency="routine", recipient="care_team",
                   patient_id=user.id, summary=f"{context}, not understood; read it: {(inbound.body or '')[:200]}")


def _unprompted(user: User, inbound: InboundMessage) -> str | _Unread:
    """A text outside any check-in is still read: a side effect it names (a tight chest, fainting,
    vomiting) reaches the care team like one reported in a check-in (serious: urgent). Words that
    are neither an effect nor filler ("thanks", "fine") are not understood: the answer carries 988
    and 911 and a person reads it (`route_reply`)."""
    graded = reply_parsing.grade_side_effects(inbound.body or "")
    effects = [e for e in graded if e.name != "unrecognized"]
    body = (inbound.body or "").strip()
    # words nobody reads, or no word at all ("?", "...", an empty text): not understood
    unread = len(effects) < len(graded) or not (re.search(r"[^\W_]", body)
                                                or any(c in side_effects._BENIGN_SYMBOLS for c in body))
    worst = max((e.grade for e in effects), key=("mild", "moderate", "serious").index, default=None)
    if worst not in ("moderate", "serious"):
        reply = _acknowledgement()
    else:
        names = ", ".join(e.name.replace("_", " ") for e in effects if e.grade == worst)
        raise_once(f"text_symptom:{inbound.message_sid}", kind="side_effect_text",
                   urgency="urgent" if worst == "serious" else "routine", recipient="care_team", patient_id=user.id,
                   summary=f"The patient texted about {names} outside a check-in.")
        reply = SERIOUS if worst == "serious" else REVIEW
    return _Unread(reply.removesuffix(f" {CRISIS_LINE}")) if unread else reply


def _acknowledgement() -> str:
    return f"{outbox.program_name()}: thanks, we got your message. Your care team replies in your account. {CRISIS_LINE}"


def _reply(user: User, inbound: InboundMessage, body: str, purpose: str) -> None:
    outbox.enqueue(inbound.from_phone, body, purpose, priority=MessagePriority.REPLY, patient_id=user.id,
                   dedupe_key=f"reply:{inbound.message_sid}")


def _open_check_in(user: User) -> CheckIn | None:
    """The check-in a text answers: the one asked most recently; or, before its prompt has gone,
    the check-in of a session due within the hour and a half (a patient may text their reading
    unprompted)."""
    asked = (CheckInStatus.PROMPTED, CheckInStatus.REMINDED, CheckInStatus.ESCALATED)
    open_ = home_sessions.open_check_ins(user)
    prompted = [c for c in open_ if c.status in asked]
    if prompted:
        return max(prompted, key=lambda c: (c.prompted_at or c.due_at, c.id))
    soon = now() + timedelta(minutes=current_policy().pre_check_in_minutes_before + 30)
    return next((c for c in open_ if c.kind is CheckInKind.PRE and c.status is CheckInStatus.PENDING
                 and c.session.status is SessionStatus.SCHEDULED and c.session.scheduled_for <= soon), None)


def _answer_pre(user: User, check_in: CheckIn, text: str) -> str | _Unclear | _Unread:
    parsed = reply_parsing.parse_pre_session(text)
    session = check_in.session
    if session.status is not SessionStatus.SCHEDULED:
        return THANKS
    if isinstance(parsed, reply_parsing.ParseError):
        if parsed.code == "no_reading" and reply_parsing.parse_sitter(text) is True:
            _confirm_sitter(user, session)
            reply = _go_or_not(user, session)
            return _Unread(reply) if reply_parsing.unread_words(text, reply_parsing.PRE_SESSION_WORDS) else reply
        return _Unclear(parsed.reply_hint)
    try:
        _, band, _ = home_sessions.record_blood_pressure(user, session.id, parsed.systolic, parsed.diastolic, "sms",
                                                          commit=False)
    except ServiceError:  # its words may be clinical: the app says why
        return "We could not take that reading. Please open your account to see why."
    if parsed.sitter_present:
        _confirm_sitter(user, session)
    check_in = db.session.get(CheckIn, check_in.id, with_for_update=True, populate_existing=True)
    if check_in.is_open:
        check_in.answer({"systolic": parsed.systolic, "diastolic": parsed.diastolic,
                         "sitter_present": parsed.sitter_present, "source": "sms"}, now())
        home_sessions.withdraw_texts(check_in)
        audit.record(user, "update", "check_in", check_in.id, patient_id=user.id, fields=["status", "answers"])
    reply = URGENT if band is BpBand.URGENT else NO_GO if band is BpBand.NO_GO else _go_or_not(user, session)
    return _Unread(reply) if parsed.unread else reply


def _confirm_sitter(user: User, session: HomeSession) -> None:
    if session.sitter_confirmed_at is None:
        home_sessions.confirm_sitter(user, session.id, commit=False)


def _go_or_not(user: User, session: HomeSession) -> str:
    gates = evaluate_gates(user, db.session.get(HomeSession, session.id), now())
    failing = [g for g in gates if not g.ok]
    if not failing:
        return GO
    asks = [GATE_ASKS[g.id] for g in failing if g.id in GATE_ASKS]
    if len(asks) < len(failing):
        asks.append("see your account for what is missing")
    return NOT_YET.format(missing="; ".join(asks))


def _answer_after(user: User, check_in: CheckIn, text: str) -> str | _Unclear | _Unread:
    parse = reply_parsing.parse_post_session if check_in.kind is CheckInKind.POST else reply_parsing.parse_next_day
    parsed = parse(text)
    if isinstance(parsed, reply_parsing.ParseError):
        return _Unclear(parsed.reply_hint)
    named = [e.name for e in parsed.side_effects if e.name != "unrecognized"]
    if len(named) < len(parsed.side_effects):
        named.append(f"unrecognized: {text[:150]}")  # the physician reads the words themselves
    answers = {"mood": parsed.mood, "side_effects": named}
    if check_in.kind is CheckInKind.NEXT_DAY:
        answers["sleep_quality"] = parsed.sleep
    try:
        _, worst, _ = home_sessions.record_check_in(user, answers, check_in_id=check_in.id, source="sms",
                                                     commit=False)
    except ServiceError:
        return "We could not record that. Please answer in your account."
    reply = THANKS if worst is None or worst.value == "mild" else SERIOUS if worst.value == "serious" else REVIEW
    if parsed.mood == reply_parsing.SCORE_RANGE[0]:  # the lowest mood: understood, the care team told (routine)
        reply = f"{reply} {CRISIS_LINE}"
    if len(named) > len([e for e in parsed.side_effects if e.name != "unrecognized"]):
        return _Unread(reply.removesuffix(f" {CRISIS_LINE}"))
    return reply

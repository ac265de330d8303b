"""The patient's home: the program's milestones so far and always exactly one next step.

`home_plan(patient)` reads the patient's own state (the screening and its review, credits and
orders, appointments, the prescription and its shipments, at-home sessions and their check-ins,
the treatment phase, retake requests) and answers with a `HomePlan`:
- `next`: the one step that matters most now, in plain words, with its time (an appointment, a
  session), its deadline (the 24 h review promise, which the page counts down) or its tracking;
- `checklist`: the milestones of the program in order (screening, review, package, consult,
  prescription, medication, first session, coaching), each done or to come, with `next` in its
  place; a path that stopped (a crisis, a declined screening) lists nothing after it, so the page
  sells nothing there.

Which step comes first, when several apply (the first that holds wins):
 1. no screening yet; a crisis screening not approved (help first); a review pending (with its SLA)
    or waiting for the patient's answer; a declined screening;
 2. a session under way; a check-in that is due; a video appointment open now; the PHQ-9 / GAD-7
    retake asked before a follow-up (`follow_ups.request_retakes`) and not answered yet;
 3. treatment ended or paused by the physician;
 4. before the consult is held: the consult booked, else book it with a credit, else buy a package;
 5. the consult held and no prescription yet: waiting for the physician;
 6. with an active prescription: a session scheduled; a physician follow-up needed before the next
    session or due by the policy's interval; medication at home to schedule a session with; a
    stage on its way (tracking); else waiting for the next stage;
 7. a follow-up booked; coaching to book with a credit; otherwise all done for now.

Rules are the services' own: the review deadline is the assessment's (`Assessment.time_left`), the
session rules come from the clinical policy (`sessions_per_consult`, `max_gap_days_before_consult`,
`follow_up_interval_days`), the treatment phase from `follow_ups.treatment_status`. Reading the
plan is an audited read of the patient's own record.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.billing.billing import CreditKind, Order
from telehealth.models.care.care_notes import RetakeRequest
from telehealth.models.home_care.home_sessions import (
    LIVE, OPEN_CHECK_IN, TAKEN, CheckIn, CheckInKind, HomeSession, SessionStatus,
)
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.screening.assessments import (
    Assessment, AssessmentStatus, Decision, Measure, ReviewDecision, ReviewStatus,
)
from telehealth.policy import current_policy
from telehealth.services.billing import ledger
from telehealth.services.care.follow_ups import treatment_status
from telehealth.services.pharmacy.prescriptions import active_prescription, versions_of
from telehealth.services.platform import audit
from telehealth.services.scheduling.scheduling import (
    APPOINTMENT_TYPES, COACHING_TYPES, PHYSICIAN_TYPES, video_window,
)

DONE, NEXT, LATER = "done", "next", "later"

# The program's milestones, in order: (code, title).
MILESTONES = (
    ("screening", "Free screening"),
    ("review", "Review by a physician"),
    ("package", "Choose a package"),
    ("consult", "Video consult with a physician"),
    ("prescription", "Prescription"),
    ("medication", "Medication delivered"),
    ("first_session", "First at-home session"),
    ("coaching", "Integration coaching"),
)
# Which milestone a next step belongs to (while that milestone is not done).
MILESTONE_OF = {
    "screening": "screening", "crisis": "review", "review": "review", "review_question": "review",
    "declined": "review", "buy_package": "package", "book_consult": "consult", "consult_booked": "consult",
    "await_prescription": "prescription", "medication_shipping": "medication", "await_medication": "medication",
    "schedule_session": "first_session", "session_scheduled": "first_session",
    "session_in_progress": "first_session", "book_coaching": "coaching", "coaching_booked": "coaching",
}
# Steps after which the program's path stops: nothing after them is offered.
ENDS_PATH = ("crisis", "declined")
IN_TRANSIT = (ShipmentStatus.CREATED, ShipmentStatus.SENT_TO_PHARMACY, ShipmentStatus.RECEIVED, ShipmentStatus.FILLED,
              ShipmentStatus.SHIPPED, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.EXCEPTION)
SHIPMENT_WORDS = {
    ShipmentStatus.CREATED: "Your prescription is being sent to the pharmacy.",
    ShipmentStatus.SENT_TO_PHARMACY: "Your prescription is at the pharmacy.",
    ShipmentStatus.RECEIVED: "The pharmacy has your prescription.",
    ShipmentStatus.FILLED: "The pharmacy has prepared your medication.",
    ShipmentStatus.SHIPPED: "Your medication is on its way.",
    ShipmentStatus.OUT_FOR_DELIVERY: "Your medication is out for delivery today.",
    ShipmentStatus.EXCEPTION: ("Your delivery is held up. Our team and the pharmacy are on it and will tell you "
                               "what happens next."),
}


@dataclass(frozen=True)
class Tracking:
    status: str          # the shipment's status words
    carrier: str | None
    number: str | None
    url: str | None      # the carrier's tracking page
    deliver_by: datetime | None


@dataclass(frozen=True)
class Step:
    code: str
    title: str
    detail: str = ""
    state: str = LATER
    at: datetime | None = None        # when it takes place (an appointment, a session)
    due_at: datetime | None = None    # a promise's deadline the page counts down (the review SLA)
    overdue: bool = False
    joinable: bool = False            # a video appointment whose room is open now
    appointment_id: int | None = None
    appointment_type: str | None = None
    tracking: Tracking | None = None
    quote: str | None = None          # the physician's own words to the patient (a question, a decline)
    crisis: bool = False


@dataclass(frozen=True)
class HomePlan:
    next: Step
    checklist: list[Step] = field(default_factory=list)

    @property
    def path_stopped(self) -> bool:
        return self.next.code in ENDS_PATH


@dataclass
class _State:
    """What the plan is made from: one read of each table, for one patient."""

    patient: User
    at: datetime
    assessment: Assessment | None
    reviewer_words: str | None
    credits: dict[CreditKind, int]
    paid: bool
    appointments: list[Appointment]
    prescribed: bool
    rx: Prescription | None
    rx_versions: set[int]
    shipments: list[Shipment]
    sessions: list[HomeSession]
    check_ins_due: list[CheckIn]
    phase: str
    retake_due: RetakeRequest | None
    providers: dict[int, str]

    # -------------------------------------------------------------- derived

    def completed(self, *types: str) -> list[Appointment]:
        return [a for a in self.appointments
                if a.appointment_type in types and a.status is AppointmentStatus.COMPLETED]

    def upcoming(self, *types: str) -> list[Appointment]:
        """Booked ones not over yet, soonest first."""
        return sorted((a for a in self.appointments if a.appointment_type in types
                       and a.status is AppointmentStatus.BOOKED and video_window(a)[1] > self.at),
                      key=lambda a: a.starts_at)

    def last_encounter_end(self) -> datetime | None:
        ends = [a.encounter_ended_at or a.ends_at for a in self.completed(*PHYSICIAN_TYPES)]
        return max(ends, default=None)

    def lineage_sessions(self) -> list[HomeSession]:
        """Sessions under the active prescription (any of its versions)."""
        return [s for s in self.sessions if s.prescription_id in self.rx_versions]

    def lineage_shipments(self) -> list[Shipment]:
        return [s for s in self.shipments if s.prescription_id in self.rx_versions]


def _load(patient: User, at: datetime) -> _State:
    pid = patient.id
    assessment = db.session.scalar(select(Assessment).where(
        Assessment.patient_id == pid, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(Assessment.submitted_at.desc(), Assessment.id.desc()).limit(1))
    reviewer_words = None
    if assessment is not None and assessment.review_status in (ReviewStatus.INFO_REQUESTED, ReviewStatus.DECLINED):
        wanted = Decision.REQUEST_INFO if assessment.review_status is ReviewStatus.INFO_REQUESTED else Decision.DECLINE
        reviewer_words = db.session.scalar(select(ReviewDecision.message_to_patient).where(
            ReviewDecision.assessment_id == assessment.id, ReviewDecision.decision == wanted)
            .order_by(ReviewDecision.id.desc()).limit(1))
    appointments = list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == pid, Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.starts_at)))
    sessions = list(db.session.scalars(select(HomeSession).where(HomeSession.patient_id == pid)
                                       .order_by(HomeSession.scheduled_for)))
    taken_ids = {s.id for s in sessions if s.status in TAKEN}
    check_ins_due = [c for c in db.session.scalars(
        select(CheckIn).join(CheckIn.session).where(HomeSession.patient_id == pid, CheckIn.status.in_(OPEN_CHECK_IN),
                                                    CheckIn.due_at <= at).order_by(CheckIn.due_at))
        # how a session went is asked once it has started (as the check-in texts are)
        if c.kind is CheckInKind.PRE or c.session_id in taken_ids]
    rx = active_prescription(pid)
    providers = {}
    if appointments:
        providers = dict(db.session.execute(select(User.id, User.display_name).where(
            User.id.in_({a.provider_id for a in appointments}))).all())
    return _State(
        patient=patient, at=at, assessment=assessment, reviewer_words=reviewer_words,
        credits=ledger.balances(pid),
        paid=db.session.scalar(select(Order.id).where(Order.patient_id == pid, Order.paid_at.is_not(None))
                               .limit(1)) is not None,
        appointments=appointments,
        prescribed=db.session.scalar(select(Prescription.id).where(Prescription.patient_id == pid).limit(1))
        is not None,
        rx=rx, rx_versions=set(db.session.scalars(versions_of(rx.lineage))) if rx is not None else set(),
        shipments=list(db.session.scalars(select(Shipment).where(Shipment.patient_id == pid)
                                          .order_by(Shipment.created_at.desc(), Shipment.id.desc()))),
        sessions=sessions, check_ins_due=check_ins_due, phase=treatment_status(pid),
        retake_due=_retake_due(pid, appointments, at), providers=providers)


def _retake_due(patient_id: int, appointments: list[Appointment], at: datetime) -> RetakeRequest | None:
    """A retake asked before a follow-up still ahead, with PHQ-9 or GAD-7 not answered since."""
    ahead = {a.id for a in appointments if a.status is AppointmentStatus.BOOKED and a.starts_at > at}
    if not ahead:
        return None
    asked = db.session.scalar(select(RetakeRequest).where(
        RetakeRequest.patient_id == patient_id, RetakeRequest.appointment_id.in_(ahead))
        .order_by(RetakeRequest.requested_at.desc()).limit(1))
    if asked is None:
        return None
    answered = set(db.session.scalars(select(Measure.instrument).where(
        Measure.patient_id == patient_id, Measure.taken_at >= asked.requested_at)))
    return None if {"phq9", "gad7"} <= answered else asked


# ------------------------------------------------------------------ the one next step


def _who(state: _State, appointment: Appointment) -> str:
    return state.providers.get(appointment.provider_id, "")


def _appointment_step(state: _State, code: str, appointment: Appointment) -> Step:
    kind = APPOINTMENT_TYPES[appointment.appointment_type]
    opens, closes = video_window(appointment)
    joinable = opens <= state.at <= closes
    who = _who(state, appointment)
    title = {"consult_booked": "Your video consult is booked", "follow_up_booked": "Your follow-up is booked",
             "coaching_booked": "Your coaching session is booked"}[code]
    minutes = current_app.config["VIDEO_OPENS_MINUTES_BEFORE"]
    if joinable:
        title = {"consult_booked": "Your video consult is open now", "follow_up_booked": "Your follow-up is open now",
                 "coaching_booked": "Your coaching session is open now"}[code]
        detail = f"{kind.name} with {who}. The video room is open: join when you are ready."
    else:
        detail = (f"{kind.name} with {who}. The video room opens {minutes} minutes before the start; "
                  "find a quiet, private place with a good connection.")
    return Step(code, title, detail, at=appointment.starts_at, joinable=joinable, appointment_id=appointment.id,
                appointment_type=appointment.appointment_type)


def _screening_step(state: _State) -> Step | None:
    a = state.assessment
    if a is None:
        return Step("screening", "Take the free screening",
                    "A few minutes of questions about how you have been feeling and your health. It tells you "
                    "whether this program may suit you.")
    if a.urgent and a.review_status is not ReviewStatus.APPROVED:
        return Step("crisis", "Please reach out for support now",
                    "Your answers tell us you may be going through a very hard time. Call or text 988, or text "
                    "HOME to 741741, any time. If you are in danger, call 911. A physician on our clinical team "
                    "has been alerted and will contact you.", crisis=True)
    if a.review_status is ReviewStatus.PENDING:
        left = a.time_left(state.at)
        hours = current_policy().review_sla_hours
        overdue = left is not None and left <= timedelta(0)
        detail = (f"A physician on our clinical team reviews every screening within {hours} hours. We will "
                  "email you as soon as they have.")
        if overdue:
            detail = ("Your review is taking longer than we promised. The clinical team has been alerted and "
                      "will review your screening as soon as possible; we are sorry for the wait.")
        return Step("review", "Waiting for a physician's review", detail, due_at=a.review_due_at, overdue=overdue)
    if a.review_status is ReviewStatus.INFO_REQUESTED:
        return Step("review_question", "Answer the physician's question",
                    "The physician reviewing your screening needs a little more information before they decide.",
                    quote=state.reviewer_words)
    if a.review_status is ReviewStatus.DECLINED:
        return Step("declined", "This program is not the right fit for you now",
                    "A physician reviewed your screening and decided that at-home treatment is not safe or "
                    "suitable for you at this time. Please talk with your own doctor or mental-health provider "
                    "about other options. You have not been charged for anything.", quote=state.reviewer_words)
    return None


def _right_now_step(state: _State) -> Step | None:
    """What cannot wait, at any stage of treatment."""
    started = next((s for s in state.sessions if s.status is SessionStatus.STARTED), None)
    if started is not None:
        return Step("session_in_progress", "Your session is under way",
                    "Stay seated or lying down with your sitter nearby. If anything worries you, reply to our "
                    "text or call the clinic; in an emergency call 911.", at=started.started_at)
    if state.check_ins_due:
        check_in = state.check_ins_due[0]
        words = {CheckInKind.PRE: "before your session", CheckInKind.POST: "after your session",
                 CheckInKind.NEXT_DAY: "the day after your session"}[check_in.kind]
        return Step("check_in", "Answer your check-in",
                    f"A few short questions {words}, so your care team knows how you are.", at=check_in.due_at)
    joinable = [a for a in state.upcoming(*APPOINTMENT_TYPES) if video_window(a)[0] <= state.at]
    if joinable:
        a = joinable[0]
        code = ("consult_booked" if a.appointment_type == "consult" else
                "follow_up_booked" if a.appointment_type == "follow_up" else "coaching_booked")
        return _appointment_step(state, code, a)
    if state.retake_due is not None:
        return Step("retake", "Answer two short questionnaires",
                    "Your follow-up is coming up. Answering the PHQ-9 and GAD-7 again shows you and your physician "
                    "how you have been feeling since the last time.")
    return None


def _treatment_step(state: _State) -> Step | None:
    """From the consult to the sessions; None once nothing in treatment needs doing."""
    policy = current_policy()
    if state.phase == "discharged":
        return Step("discharged", "Your treatment has ended",
                    "Your physician has ended this treatment. If you would like to talk about starting again, "
                    "contact your care team.")
    if state.phase == "paused":
        return Step("paused", "Your treatment is paused",
                    "Your physician has paused your treatment. They will contact you before it starts again; no "
                    "session can take place until then.")
    if not state.completed("consult"):
        booked = state.upcoming("consult")
        if booked:
            return _appointment_step(state, "consult_booked", booked[0])
        if state.credits[CreditKind.CONSULT] > 0:
            return Step("book_consult", "Book your video consult",
                        "Choose a time with a physician licensed in your state. The consult is a 30-minute video "
                        "call, and it must take place before any prescription.")
        return Step("buy_package", "Choose a package",
                    "Your screening is approved. A package includes your physician consult; prices are shown in "
                    "full, with no hidden fees.")
    if not state.prescribed:
        return Step("await_prescription", "Waiting for your prescription",
                    "Your physician is preparing your treatment plan. When they sign your prescription, it goes "
                    "straight to our partner pharmacy and we will let you know.")
    if state.rx is None:
        return None
    lineage = state.lineage_sessions()
    scheduled = next((s for s in lineage if s.status is SessionStatus.SCHEDULED and s.scheduled_for
                      + timedelta(hours=policy.missed_session_after_hours) > state.at), None)
    if scheduled is not None:
        return Step("session_scheduled", "Get ready for your session",
                    "On the day: have your sitter with you, take your blood pressure in the hour before, and keep "
                    "your phone nearby. No driving until the next day.", at=scheduled.scheduled_for)
    follow_up = _follow_up_step(state)
    if follow_up is not None:
        return follow_up
    taken = sum(1 for s in lineage if s.status in TAKEN)
    live = sum(1 for s in lineage if s.status in LIVE)
    shipments = state.lineage_shipments()
    delivered = sum(s.sessions for s in shipments if s.status is ShipmentStatus.DELIVERED)
    if live < state.rx.total_sessions and taken < delivered:
        first = "your first" if not any(s.status in TAKEN for s in state.sessions) else "your next"
        return Step("schedule_session", "Schedule a session",
                    f"Your medication is at home. Choose a time for {first} at-home session, at least "
                    f"{policy.min_hours_between_sessions} hours after any other, with a trusted person to sit with "
                    "you.")
    moving = next((s for s in shipments if s.status in IN_TRANSIT), None)
    if moving is not None:
        return Step("medication_shipping", "Your medication is on its way", SHIPMENT_WORDS[moving.status],
                    tracking=Tracking(SHIPMENT_WORDS[moving.status], moving.carrier, moving.tracking_number,
                                      moving.tracking_url, moving.deliver_by))
    if live < state.rx.total_sessions:
        return Step("await_medication", "Waiting for your next medication",
                    "Your physician releases your medication in stages. They will send the next one to the "
                    "pharmacy after reviewing how your sessions went.")
    return None


def _follow_up_step(state: _State) -> Step | None:
    """A physician follow-up the next session needs (every `sessions_per_consult` sessions, and after a
    gap), or one due by the policy's interval: book it, when none is booked."""
    policy = current_policy()
    if state.upcoming("follow_up"):
        return None
    last = state.last_encounter_end()
    if last is None:
        return None
    since = sum(1 for s in state.sessions if s.status in TAKEN and s.started_at and s.started_at > last)
    latest = max([last] + [s.started_at for s in state.sessions if s.status in TAKEN and s.started_at])
    needed = since >= policy.sessions_per_consult or state.at - latest > timedelta(days=policy.max_gap_days_before_consult)
    due = state.at - last >= timedelta(days=policy.follow_up_interval_days)
    if not needed and not (due and state.credits[CreditKind.FOLLOW_UP] > 0):
        return None
    if state.credits[CreditKind.FOLLOW_UP] > 0:
        return Step("book_follow_up", "Book your follow-up with your physician",
                    "It is time for a check-in with your physician: how treatment is going, your dose, and what "
                    "comes next. Your package includes it.")
    return Step("buy_follow_up", "Your physician needs to see you",
                "Before your next session, a follow-up with your physician is needed. Monthly maintenance "
                "includes one follow-up a month.")


def _later_step(state: _State) -> Step:
    follow_up = state.upcoming("follow_up")
    if follow_up:
        return _appointment_step(state, "follow_up_booked", follow_up[0])
    coaching = state.upcoming(*COACHING_TYPES)
    if state.credits[CreditKind.COACHING_30] + state.credits[CreditKind.COACHING_60] > 0 and not coaching:
        return Step("book_coaching", "Book an integration coaching session",
                    "A trauma-informed coach helps you make sense of your sessions. You have a coaching session "
                    "included; choose a time that suits you.")
    if coaching:
        return _appointment_step(state, "coaching_booked", coaching[0])
    return Step("all_done", "You are all set for now",
                "There is nothing you need to do today. We will let you know when something needs you.")


def next_step(state: _State) -> Step:
    step = (_screening_step(state) or _right_now_step(state) or _treatment_step(state) or _later_step(state))
    return replace(step, state=NEXT)


# ------------------------------------------------------------------ the checklist


def _milestones_done(state: _State) -> dict[str, bool]:
    a = state.assessment
    return {
        "screening": a is not None,
        "review": a is not None and a.review_status is ReviewStatus.APPROVED,
        "package": state.paid,
        "consult": bool(state.completed("consult")),
        "prescription": state.prescribed,
        "medication": any(s.status is ShipmentStatus.DELIVERED for s in state.shipments),
        "first_session": any(s.status in TAKEN for s in state.sessions),
        "coaching": bool(state.completed(*COACHING_TYPES)),
    }


def checklist(state: _State, step: Step) -> list[Step]:
    """The milestones, done or to come, with `step` (the one next) in its milestone's place, or
    before the first milestone still to come when it belongs to none (a check-in, a follow-up)."""
    done = _milestones_done(state)
    items = [Step(code, title, state=DONE if done[code] else LATER) for code, title in MILESTONES]
    home = MILESTONE_OF.get(step.code)
    if home is not None and not done[home]:
        index = next(i for i, item in enumerate(items) if item.code == home)
        items[index] = step
    else:
        index = next((i for i, item in enumerate(items) if item.state == LATER), len(items))
        items.insert(index, step)
    if step.code in ENDS_PATH:  # nothing after a crisis or a decline: no package, no consult
        items = items[:index + 1]
    return items


def plan(patient: User, at: datetime | None = None) -> HomePlan:
    """The plan at `at` (default now), without auditing (see `home_plan`)."""
    state = _load(patient, at or now())
    step = next_step(state)
    return HomePlan(next=step, checklist=checklist(state, step))


def home_plan(patient: User) -> HomePlan:
    """The patient's own home: their plan, the read audited in their record."""
    result = plan(patient)
    audit.record(patient, "read", "home_plan", patient.id, patient_id=patient.id)
    db.session.commit()
    return result

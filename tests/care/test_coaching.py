"""Integration coaching: coaches assigned by admin or ops, notes written only by the session's coach
once it started, who reads what (the visibility matrix), the 7-day editing window, the patient's
coaching sessions, and a coaching add-on bought then booked end to end."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from telehealth.clock import now
from telehealth.errors import Forbidden
from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, CareAssignment, CareRole, CoachingNote, CreditKind, User,
)
from telehealth.services.billing import ledger
from telehealth.services.care import coaching
from telehealth.services.scheduling import scheduling
from telehealth.services.platform.authz import Scope, authorize_patient
from tests import sessions_support
from tests.conftest import error_of, wait_until
from tests.sessions_support import login
from tests.billing.test_billing import _buy, _credits, buyer, create_user_committed, shop  # noqa: F401 (fixtures)

clock = sessions_support.clock

PRIVATE = "Processing grief about her father; revisit the dream imagery next time."
SUMMARY = "We talked about what came up in your session and a breathing practice for the week."


@dataclass
class Team:
    patient: User
    coach: User
    physician: User
    appointment: Appointment


def _assign(db, patient, staff, care_role):
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=staff.id, care_role=care_role))
    db.session.commit()


def _coaching(db, patient, coach, starts_at, *, type_="coaching_30", status=AppointmentStatus.BOOKED):
    minutes = 30 if type_ == "coaching_30" else 60
    row = Appointment(patient_id=patient.id, provider_id=coach.id, appointment_type=type_, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=minutes), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=minutes), status=status, credit_kind=type_,
                      video_room=f"room-{patient.id}-{coach.id}-{starts_at.timestamp():.0f}-{status.value}")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def team(app, db, create_user, clock):
    patient, coach = create_user("patient"), create_user("coach")
    physician = create_user("physician", states=["NY"])
    _assign(db, patient, coach, CareRole.COACH)
    _assign(db, patient, physician, CareRole.PHYSICIAN)
    appointment = _coaching(db, patient, coach, now() - timedelta(hours=1))
    return Team(patient, coach, physician, appointment)


def _write(client, appointment_id, private=PRIVATE, summary=SUMMARY):
    return client.post(f"/api/v1/appointments/{appointment_id}/coaching-note",
                       json={"private_note": private, "patient_summary": summary})


def _notes(client, patient_id):
    return client.get(f"/api/v1/patients/{patient_id}/coaching-notes")


# --------------------------------------------------------------------------- assignment


@pytest.mark.parametrize("role", ["admin", "ops"])
def test_admin_and_ops_assign_a_coach_who_then_sees_coaching_data(app, db, create_user, role):
    patient, coach = create_user("patient"), create_user("coach")
    with pytest.raises(Forbidden):
        authorize_patient(coach, patient.id, Scope.COACHING)
    r = login(app, create_user(role)).post("/api/v1/admin/care-assignments",
                                           json={"patient_id": patient.id, "staff_id": coach.id})
    assert r.status_code == 201, r.get_json()
    assert db.session.scalar(select(CareAssignment.care_role).where(CareAssignment.staff_id == coach.id)) \
        is CareRole.COACH
    assert Scope.COACHING in authorize_patient(coach, patient.id, Scope.COACHING)
    with pytest.raises(Forbidden):
        authorize_patient(coach, patient.id, Scope.CLINICAL)


# --------------------------------------------------------------------------- writing


def test_the_sessions_coach_writes_a_note_encrypted_at_rest(app, db, team):
    r = _write(login(app, team.coach), team.appointment.id)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["private_note"] == PRIVATE and body["patient_summary"] == SUMMARY and body["revision"] == 1
    assert datetime.fromisoformat(body["editable_until"]) == team.appointment.ends_at + timedelta(days=7)
    raw = db.session.execute(text("SELECT private_note, patient_summary FROM coaching_notes")).one()
    assert "grief" not in raw[0] and "breathing" not in raw[1]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.resource_type == "coaching_note"))
    assert event.action == "create" and event.fields == "patient_summary,private_note"
    # once per session
    r = _write(login(app, team.coach), team.appointment.id)
    assert r.status_code == 409 and error_of(r)["code"] == "note_exists"


def test_only_the_sessions_assigned_coach_writes_and_only_once_it_started(app, db, team, create_user):
    other = create_user("coach")
    _assign(db, team.patient, other, CareRole.COACH)
    r = _write(login(app, other), team.appointment.id)  # assigned too, but not this session's coach
    assert r.status_code == 403
    later = _coaching(db, team.patient, team.coach, now() + timedelta(hours=2))
    r = _write(login(app, team.coach), later.id)
    assert r.status_code == 409 and error_of(r)["code"] == "session_not_started"
    cancelled = _coaching(db, team.patient, team.coach, now() - timedelta(days=1), status=AppointmentStatus.CANCELLED)
    r = _write(login(app, team.coach), cancelled.id)
    assert r.status_code == 409 and error_of(r)["code"] == "session_not_held"
    follow_up = _coaching(db, team.patient, team.physician, now() - timedelta(days=2), type_="coaching_60")
    follow_up.appointment_type = "follow_up"
    db.session.commit()
    assert _write(login(app, team.coach), follow_up.id).status_code == 404
    # the assignment ended: the coach of the session may no longer write
    db.session.scalar(select(CareAssignment).where(CareAssignment.staff_id == team.coach.id)).end(now())
    db.session.commit()
    assert _write(login(app, team.coach), team.appointment.id).status_code == 403
    assert db.session.scalar(select(CoachingNote.id)) is None
    denied = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "denied")).all()
    assert sorted(denied) == sorted([other.id, team.coach.id])


# --------------------------------------------------------------------------- who reads what


def test_visibility_matrix(app, db, team, create_user):
    coaching.write_note(team.coach, team.appointment.id, PRIVATE, SUMMARY)
    assigned_other = create_user("coach")
    _assign(db, team.patient, assigned_other, CareRole.COACH)
    outsider_coach = create_user("coach")
    outsider_physician = create_user("physician", states=["NY"])

    def read(user):
        return _notes(login(app, user), team.patient.id)

    # the writer: the note with its private part
    [note] = read(team.coach).get_json()["items"]
    assert note["private_note"] == PRIVATE and note["patient_summary"] == SUMMARY
    # a physician on the care team: every note with its private part
    [note] = read(team.physician).get_json()["items"]
    assert note["private_note"] == PRIVATE
    # the patient: the summary, never the private note
    r = read(team.patient)
    [note] = r.get_json()["items"]
    assert note["patient_summary"] == SUMMARY and note["private_note"] is None
    assert "grief" not in r.get_data(as_text=True)
    # another coach of the same patient: none of this coach's notes
    r = read(assigned_other)
    assert r.status_code == 200 and r.get_json()["items"] == []
    # not on the care team, ops, admin: refused
    for user in (outsider_coach, outsider_physician, create_user("ops"), create_user("admin")):
        r = read(user)
        assert r.status_code == 403, user.role
    # another patient learns nothing
    assert read(create_user("patient")).status_code == 404
    # refused in the service too (not only by the route's roles), and audited
    ops = create_user("ops")
    with pytest.raises(Forbidden):
        coaching.notes_for_patient(ops, team.patient.id)
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "coaching_notes",
                                                        AuditEvent.action == "read")).all()
    assert {e.actor_id for e in reads} == {team.coach.id, team.physician.id, team.patient.id, assigned_other.id}
    assert next(e for e in reads if e.actor_id == team.patient.id).fields == "patient_summary"
    denied = set(db.session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.action == "denied", AuditEvent.patient_id == team.patient.id)))
    assert {outsider_coach.id, outsider_physician.id, ops.id} <= denied


# --------------------------------------------------------------------------- editing


def test_the_writer_edits_until_seven_days_after_the_session(app, db, team, clock, create_user):
    note = coaching.write_note(team.coach, team.appointment.id, PRIVATE, SUMMARY)
    client = login(app, team.coach)
    clock.shift(timedelta(days=3))
    r = client.patch(f"/api/v1/coaching-notes/{note.id}", json={"patient_summary": "A shorter summary."})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["patient_summary"] == "A shorter summary." and body["private_note"] == PRIVATE
    assert body["revision"] == 2 and datetime.fromisoformat(body["updated_at"]) == now()
    # somebody else may not
    other = create_user("coach")
    _assign(db, team.patient, other, CareRole.COACH)
    r = login(app, other).patch(f"/api/v1/coaching-notes/{note.id}", json={"private_note": "Mine now"})
    assert r.status_code == 403
    # nothing to change
    r = client.patch(f"/api/v1/coaching-notes/{note.id}", json={})
    assert r.status_code == 422
    # the last moment, then closed
    clock.move_to(team.appointment.ends_at + timedelta(days=7))
    assert client.patch(f"/api/v1/coaching-notes/{note.id}", json={"private_note": "Last edit."}).status_code == 200
    clock.shift(timedelta(seconds=1))
    r = client.patch(f"/api/v1/coaching-notes/{note.id}", json={"private_note": "Too late."})
    assert r.status_code == 409 and error_of(r)["code"] == "edit_window_closed"
    db.session.refresh(note)
    assert note.private_note == "Last edit." and note.revision == 3


# --------------------------------------------------------------------------- the patient's sessions


def test_my_coaching_lists_past_sessions_with_summaries_and_upcoming_ones(app, db, team):
    coaching.write_note(team.coach, team.appointment.id, PRIVATE, SUMMARY)
    older = _coaching(db, team.patient, team.coach, now() - timedelta(days=8), type_="coaching_60")
    upcoming = _coaching(db, team.patient, team.coach, now() + timedelta(days=2))
    _coaching(db, team.patient, team.coach, now() + timedelta(days=3), status=AppointmentStatus.CANCELLED)
    r = login(app, team.patient).get("/api/v1/me/coaching")
    assert r.status_code == 200
    body = r.get_json()
    assert [(s["appointment_id"], s["summary"]) for s in body["past"]] == [(team.appointment.id, SUMMARY),
                                                                           (older.id, None)]
    assert [s["appointment_id"] for s in body["upcoming"]] == [upcoming.id]
    assert body["past"][0]["coach_name"] == team.coach.display_name and body["past"][1]["type"] == "coaching_60"
    assert "grief" not in r.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.resource_type == "coaching_sessions",
                                                         AuditEvent.actor_id == team.patient.id)) is not None


# --------------------------------------------------------------------------- buying and booking coaching


def test_buying_coaching_30_then_booking_it_end_to_end(app, buyer, stripe_webhooks, committed,  # noqa: F811
                                                      create_user_committed):  # noqa: F811
    coach = create_user_committed("coach")
    scheduling.set_weekly_windows(coach, [(d, time(0), time(23, 30)) for d in range(7)])
    order, r = _buy(buyer, "coaching_30")
    assert r.status_code == 200, r.get_json()
    wait_until(lambda: _credits(buyer)["coaching_30"] == 1)
    start = now() + timedelta(hours=13)
    r = buyer.get("/api/v1/slots", query_string={"type": "coaching_30", "start": start.isoformat(),
                                                 "end": (start + timedelta(days=1)).isoformat()})
    assert r.status_code == 200
    slot = next(s for s in r.get_json()["items"] if s["provider_id"] == coach.id)
    r = buyer.post("/api/v1/appointments", json={"type": "coaching_30", "provider_id": coach.id,
                                                 "starts_at": slot["starts_at"]})
    assert r.status_code == 201, r.get_json()
    assert _credits(buyer)["coaching_30"] == 0
    assert ledger.balances(buyer.patient.id)[CreditKind.COACHING_30] == 0
    mine = buyer.get("/api/v1/me/coaching").get_json()
    assert [s["appointment_id"] for s in mine["upcoming"]] == [r.get_json()["id"]] and mine["past"] == []


# --------------------------------------------------------------------------- a booked coach joins the care team


def _book_coaching(app, db, patient, coach, starts_at):
    client = login(app, patient)
    r = client.post("/api/v1/appointments", json={"type": "coaching_30", "provider_id": coach.id,
                                                  "starts_at": starts_at.isoformat()})
    assert r.status_code == 201, r.get_json()
    return client, r.get_json()["id"]


@pytest.fixture
def booking(app, db, create_user, clock):
    patient, coach = create_user("patient"), create_user("coach")
    scheduling.set_weekly_windows(coach, [(d, time(0), time(23, 30)) for d in range(7)])
    ledger.grant(patient.id, CreditKind.COACHING_30, 3, key="test:coaching-booked")
    db.session.commit()
    return patient, coach


def _scopes(coach, patient) -> set:
    """What the coach may see of the patient, read without the side effects of a refusal."""
    from telehealth.services.platform.authz import scopes_for

    return set(scopes_for(coach, patient.id))


def _assignments(db, coach):
    db.session.expire_all()
    return list(db.session.scalars(select(CareAssignment).where(CareAssignment.staff_id == coach.id)
                                   .order_by(CareAssignment.id)))


def test_booking_a_coach_puts_them_on_the_care_team_until_the_note_window_closes(app, db, booking, clock):
    from telehealth.scheduler import JOBS, run_job
    from telehealth.services.accounts import care_team

    patient, coach = booking
    assert _scopes(coach, patient) == set()
    starts_at = now() + timedelta(days=1)
    _, appointment_id = _book_coaching(app, db, patient, coach, starts_at)
    [assignment] = _assignments(db, coach)
    assert assignment.via_booking and assignment.is_current and assignment.care_role is CareRole.COACH
    assert db.session.scalar(select(AuditEvent.actor_id).where(
        AuditEvent.resource_type == "care_assignment", AuditEvent.resource_id == str(assignment.id),
        AuditEvent.action == "create")) == patient.id
    assert _scopes(coach, patient) == {Scope.CONTACT, Scope.COACHING}  # nothing clinical
    # a second booking with the same coach does not add another assignment
    _book_coaching(app, db, patient, coach, starts_at + timedelta(days=2))
    assert len(_assignments(db, coach)) == 1

    clock.move_to(starts_at + timedelta(minutes=5))
    r = _write(login(app, coach), appointment_id)
    assert r.status_code == 201, r.get_json()
    # the sweep leaves it while coaching continues
    assert care_team.end_lapsed_bookings() == 0

    # the later session is cancelled in time; once the first one's note window has closed, access ends
    # at once (read lazily), and the sweep closes the row, once, even when run twice
    later = db.session.scalar(select(Appointment.id).where(Appointment.provider_id == coach.id,
                                                           Appointment.id != appointment_id))
    assert login(app, patient).post(f"/api/v1/appointments/{later}/cancel", json={}).status_code == 200
    window = timedelta(days=7, minutes=30)  # coaching_note_edit_days after the 30-minute session ends
    clock.move_to(starts_at + window - timedelta(minutes=1))
    assert Scope.COACHING in _scopes(coach, patient)
    clock.move_to(starts_at + window + timedelta(minutes=1))
    assert _scopes(coach, patient) == set()
    assert _assignments(db, coach)[0].is_current  # not yet swept
    [job] = [j for j in JOBS if j.name == "care_team_sweep"]
    assert run_job(app, job) == (True, 1)
    assert care_team.end_lapsed_bookings() == 0
    [assignment] = _assignments(db, coach)
    assert not assignment.is_current
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.resource_type == "care_assignment", AuditEvent.resource_id == str(assignment.id),
        AuditEvent.action == "delete")) == "delete"
    # booking again puts the coach back, with a new assignment
    _book_coaching(app, db, patient, coach, (now() + timedelta(days=1)).replace(minute=0))
    assert [a.is_current for a in _assignments(db, coach)] == [False, True]


def test_a_cancelled_booking_gives_the_coach_nothing(app, db, booking, clock):
    patient, coach = booking
    client, appointment_id = _book_coaching(app, db, patient, coach, now() + timedelta(days=1))
    assert Scope.COACHING in _scopes(coach, patient)
    assert client.post(f"/api/v1/appointments/{appointment_id}/cancel", json={}).status_code == 200
    assert _scopes(coach, patient) == set()


def test_a_booked_coach_that_admin_assigns_stays_after_the_coaching(app, db, booking, clock, create_user):
    from telehealth.services.accounts import care_team

    patient, coach = booking
    starts_at = now() + timedelta(days=1)
    _book_coaching(app, db, patient, coach, starts_at)
    r = login(app, create_user("admin")).post("/api/v1/admin/care-assignments",
                                              json={"patient_id": patient.id, "staff_id": coach.id})
    assert r.status_code == 201, r.get_json()
    [assignment] = _assignments(db, coach)
    assert not assignment.via_booking
    clock.move_to(starts_at + timedelta(days=30))
    assert care_team.end_lapsed_bookings() == 0
    assert Scope.COACHING in _scopes(coach, patient)


def test_an_admin_assigned_coach_booked_gets_no_second_assignment(app, db, clock, booking):
    patient, coach = booking
    _assign(db, patient, coach, CareRole.COACH)
    _book_coaching(app, db, patient, coach, now() + timedelta(days=1))
    assert [(a.via_booking, a.is_current) for a in _assignments(db, coach)] == [(False, True)]

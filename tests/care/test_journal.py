"""The integration journal: private by default, shared entry by entry with the patient's own coach
(and only them), encrypted at rest, every read and share audited, crisis words answered with the
help lines and a page to the on-call physician, lengths refused in words."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from telehealth.clock import now
from telehealth.errors import Forbidden, NotFound, ValidationFailed
from telehealth.models import (
    AuditEvent, CareAssignment, CareRole, ClinicalAlert, HomeSession, JournalEntry, SessionStatus,
)
from telehealth.services.care import journal
from tests.conftest import error_of
from tests.sessions_support import login, ready

SECRET = "The colours came back and I cried about my sister for the first time in years."
CRISIS = "honestly i dont see the point anymore, i want to kill myself"


@pytest.fixture
def pair(db, create_user):
    """A patient and the coach on their care team (assigned by admin or ops)."""
    patient, coach = create_user("patient"), create_user("coach")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=coach.id, care_role=CareRole.COACH))
    db.session.commit()
    return patient, coach


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audits(db, action: str, resource_type: str = "journal_entry") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.resource_type == resource_type)))


def _write(client, body=SECRET, **extra):
    return client.post("/api/v1/me/journal", json={"body": body, **extra})


# --------------------------------------------------------------------------- writing, private by default


def test_an_entry_is_private_by_default_and_encrypted_at_rest(app, db, pair):
    patient, coach = pair
    r = _write(login(app, patient))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["entry"]["body"] == SECRET and body["entry"]["shared"] is False
    assert body["crisis"] is False and body["crisis_resources"] == [] and body["advice"] is None
    raw = db.session.execute(text("SELECT body FROM journal_entries")).scalar_one()
    assert SECRET not in raw and "sister" not in raw and raw.startswith("gAAAA")  # a Fernet token
    # the coach on the team reads nothing of a private entry
    r = login(app, coach).get(f"/api/v1/patients/{patient.id}/journal")
    assert r.status_code == 200 and r.get_json()["items"] == []
    [created] = _audits(db, "create")
    assert created.patient_id == patient.id and created.fields == "body" and SECRET not in (created.fields or "")


def test_the_patient_lists_edits_and_deletes_their_own_entries(app, db, pair):
    patient, coach = pair
    client = login(app, patient)
    first = _write(client, "First entry.").get_json()["entry"]["id"]
    second = _write(client, "Second entry.").get_json()["entry"]["id"]
    r = client.get("/api/v1/me/journal")
    assert [e["id"] for e in r.get_json()["items"]] == [second, first]
    assert r.get_json()["shared_with"] == [{"id": coach.id, "name": coach.display_name}]
    r = client.patch(f"/api/v1/me/journal/{first}", json={"body": "First entry, rewritten."})
    assert r.status_code == 200 and r.get_json()["entry"]["body"] == "First entry, rewritten."
    assert _audits(db, "update")[0].fields == "body"
    assert client.delete(f"/api/v1/me/journal/{second}").status_code == 204
    assert db.session.get(JournalEntry, second) is None
    assert [a.resource_id for a in _audits(db, "delete")] == [str(second)]
    assert client.delete(f"/api/v1/me/journal/{second}").status_code == 404


def test_an_entry_may_name_one_of_the_patients_own_sessions_that_took_place(app, db, create_user):
    ctx = ready(db, create_user)
    held = HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=1,
                       scheduled_for=now() - timedelta(days=1), status=SessionStatus.COMPLETED, sitter_name="Sam",
                       sitter_phone="+12125550123", started_at=now() - timedelta(days=1),
                       completed_at=now() - timedelta(hours=20))
    upcoming = HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=2,
                           scheduled_for=now() + timedelta(days=3), sitter_name="Sam", sitter_phone="+12125550123")
    db.session.add_all([held, upcoming])
    db.session.commit()
    client = login(app, ctx.patient)
    r = _write(client, session_id=held.id)
    assert r.status_code == 201 and r.get_json()["entry"]["session_id"] == held.id
    assert r.get_json()["entry"]["session_number"] == 1
    entry_id = r.get_json()["entry"]["id"]
    for refused in (upcoming.id, 999999):
        r = _write(client, session_id=refused)
        assert r.status_code == 422 and "session_id" in error_of(r)["fields"]
    # another patient's session is refused the same way
    other = ready(db, create_user)
    theirs = HomeSession(patient_id=other.patient.id, prescription_id=other.prescription.id, number=1,
                         scheduled_for=now(), status=SessionStatus.COMPLETED, sitter_name="Sam",
                         sitter_phone="+12125550123")
    db.session.add(theirs)
    db.session.commit()
    r = _write(client, session_id=theirs.id)
    assert r.status_code == 422 and "session_id" in error_of(r)["fields"]
    # null unlinks it; leaving it out keeps it
    r = client.patch(f"/api/v1/me/journal/{entry_id}", json={"body": "Changed."})
    assert r.get_json()["entry"]["session_id"] == held.id
    r = client.patch(f"/api/v1/me/journal/{entry_id}", json={"session_id": None})
    assert r.status_code == 200 and r.get_json()["entry"]["session_id"] is None
    assert _count(db, JournalEntry) == 1


# --------------------------------------------------------------------------- sharing


def test_sharing_shows_the_entry_to_the_coach_and_unsharing_hides_it_again_all_audited(app, db, pair):
    patient, coach = pair
    client = login(app, patient)
    shared_id = _write(client, "For my coach.").get_json()["entry"]["id"]
    _write(client, "Just for me.")
    r = client.post(f"/api/v1/me/journal/{shared_id}/share", json={})
    assert r.status_code == 200 and r.get_json()["shared"] is True and r.get_json()["shared_at"]
    assert client.post(f"/api/v1/me/journal/{shared_id}/share", json={}).status_code == 200  # twice: no change
    assert len(_audits(db, "share")) == 1
    coach_client = login(app, coach)
    r = coach_client.get(f"/api/v1/patients/{patient.id}/journal")
    assert r.status_code == 200
    assert [(e["id"], e["body"]) for e in r.get_json()["items"]] == [(shared_id, "For my coach.")]
    [read] = [a for a in _audits(db, "read") if a.actor_id == coach.id]
    assert (read.resource_id, read.patient_id, read.actor_role) == (str(shared_id), patient.id, "coach")
    r = client.post(f"/api/v1/me/journal/{shared_id}/unshare", json={})
    assert r.status_code == 200 and r.get_json()["shared"] is False and r.get_json()["shared_at"] is None
    assert len(_audits(db, "unshare")) == 1
    assert coach_client.get(f"/api/v1/patients/{patient.id}/journal").get_json()["items"] == []


def test_only_the_patients_own_coach_reads_shared_entries(app, db, pair, create_user):
    patient, coach = pair
    client = login(app, patient)
    entry_id = _write(client).get_json()["entry"]["id"]
    client.post(f"/api/v1/me/journal/{entry_id}/share", json={})
    stranger = create_user("coach")   # a coach, but not this patient's
    r = login(app, stranger).get(f"/api/v1/patients/{patient.id}/journal")
    assert r.status_code == 403 and SECRET not in r.get_data(as_text=True)
    # the patient's own coach does not read another patient's entries either
    other = create_user("patient")
    _write(login(app, other), "Someone else's entry.")
    assert login(app, coach).get(f"/api/v1/patients/{other.id}/journal").status_code == 403
    # physicians, ops, admin and patients have no such route; in the service a physician is refused too
    for role in ("physician", "ops", "admin", "patient"):
        r = login(app, create_user(role)).get(f"/api/v1/patients/{patient.id}/journal")
        assert r.status_code == 403, role
    physician = create_user("physician")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    with pytest.raises(Forbidden):
        journal.shared_with_coach(physician, patient.id)
    assert [a.actor_id for a in _audits(db, "denied", "journal_entries")] == [physician.id]


def test_a_coach_whose_assignment_ended_reads_nothing_more(app, db, pair):
    patient, coach = pair
    client = login(app, patient)
    entry_id = _write(client).get_json()["entry"]["id"]
    client.post(f"/api/v1/me/journal/{entry_id}/share", json={})
    assignment = db.session.scalar(select(CareAssignment).where(CareAssignment.staff_id == coach.id))
    assignment.ended_at = now()
    db.session.commit()
    assert login(app, coach).get(f"/api/v1/patients/{patient.id}/journal").status_code == 403
    assert client.get("/api/v1/me/journal").get_json()["shared_with"] == []


def test_another_patient_gets_the_404_of_an_entry_that_does_not_exist(app, db, pair, create_user):
    patient, _ = pair
    entry_id = _write(login(app, patient)).get_json()["entry"]["id"]
    intruder = login(app, create_user("patient"))
    missing = intruder.patch("/api/v1/me/journal/999999", json={"body": "x"})
    for r in (intruder.patch(f"/api/v1/me/journal/{entry_id}", json={"body": "Mine now."}),
              intruder.delete(f"/api/v1/me/journal/{entry_id}"),
              intruder.post(f"/api/v1/me/journal/{entry_id}/share", json={}),
              intruder.post(f"/api/v1/me/journal/{entry_id}/unshare", json={})):
        assert r.status_code == 404 and error_of(r) == error_of(missing)
    entry = db.session.get(JournalEntry, entry_id)
    assert entry.body == SECRET and entry.shared_at is None
    assert len(_audits(db, "denied")) == 4
    assert intruder.get("/api/v1/me/journal").get_json()["items"] == []
    # a coach or a physician has no patient's journal of their own
    assert login(app, create_user("coach")).get("/api/v1/me/journal").status_code == 403


# --------------------------------------------------------------------------- crisis words, lengths


def test_crisis_words_show_the_help_lines_and_page_the_on_call_physician(app, db, pair):
    patient, _ = pair
    client = login(app, patient)
    r = _write(client, CRISIS)
    assert r.status_code == 201
    body = r.get_json()
    assert body["crisis"] is True and "988" in body["advice"] and "911" in body["advice"]
    assert {res["name"] for res in body["crisis_resources"]} >= {"988 Suicide & Crisis Lifeline", "Crisis Text Line"}
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.patient_id) == ("crisis", "urgent", patient.id)
    assert "journal" in alert.summary and "kill" not in alert.summary  # the entry stays private
    assert alert.status.value in ("delivered", "pending")
    # the entry is kept, private, as written
    entry = db.session.get(JournalEntry, body["entry"]["id"])
    assert entry.body == CRISIS and entry.shared_at is None
    # an edit into crisis words is read the same way; an edit of something else is not
    calm = _write(client, "A calm day.").get_json()
    assert calm["crisis"] is False
    r = client.patch(f"/api/v1/me/journal/{calm['entry']['id']}", json={"body": "i am not safe tonight"})
    assert r.get_json()["crisis"] is True
    assert _count(db, ClinicalAlert) == 2


def test_lengths_and_blank_text_are_refused_in_words_and_nothing_is_written(app, db, pair):
    patient, _ = pair
    client = login(app, patient)
    for body in ("", "   ", "x" * (journal.MAX_BODY + 1), "bad \u202e direction"):
        r = _write(client, body)
        assert r.status_code == 422, body[:10]
        assert error_of(r)["fields"]["body"]
    assert _count(db, JournalEntry) == 0
    assert _write(client, "x" * journal.MAX_BODY).status_code == 201
    # the service refuses the same lengths when called directly
    with pytest.raises(ValidationFailed) as refused:
        journal.write(patient, "y" * (journal.MAX_BODY + 1))
    assert "10,000" in refused.value.fields["body"][0]
    with pytest.raises(NotFound):
        journal.edit(patient, 999999, body="z")

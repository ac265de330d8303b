"""The physician's patient pages with Flask's test client: the list of their care team's patients
(searched, paged, without a query per row), the chart (each section shows the patient's real data,
one audit row per opening said so on the page, the same number of statements for a short and a long
history), the follow-up decision form, clearing a side effect, pausing and resuming (refusals in
words with nothing written), and who may open what."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    AdverseEvent, AuditEvent, BloodPressureReading, CareAssignment, CareRole, Diagnosis, FollowUpDecision, Measure,
    Prescription, TreatmentPause,
)
from telehealth.models.care.care_notes import CoachingNote, DecisionKind, PatientTreatmentPhase, TreatmentPhase
from telehealth.models.platform.alerts import AlertStatus, ClinicalAlert
from telehealth.models.home_care.home_sessions import AdverseGrade, BpBand, BpSource, HomeSession, SessionStatus
from telehealth.models.records.releases import RecordRelease
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from tests import sessions_support
from tests.conftest import PASSWORD
from tests.pages_support import BROWSER, submit, text_of
from tests.sessions_support import encounter, ready

clock = sessions_support.clock

GATES = [{"id": "prescription", "ok": True, "reason": "ok"}, {"id": "sitter", "ok": True, "reason": "ok"},
         {"id": "blood_pressure", "ok": True, "reason": "in range"}]


def _sign_in(client, user):
    client.post("/api/v1/auth/logout", json={})
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()


def _measure(db, patient, instrument, total, band, at, source="retake"):
    db.session.add(Measure(patient_id=patient.id, instrument=instrument, questionnaire_version=1, answers={},
                           total=total, band=band, taken_at=at, source=source))


def _history(db, ctx, size: int):
    """`size` sessions (each with its gates and a reading) and measures, and one of everything else."""
    p, doc = ctx.patient, ctx.physician
    start = now() - timedelta(days=4 * size + 10)
    _measure(db, p, "phq9", 20, "severe", start - timedelta(days=2), "screening")
    _measure(db, p, "gad7", 15, "severe", start - timedelta(days=2), "screening")
    for i in range(size):
        at = start + timedelta(days=4 * i)
        s = HomeSession(patient_id=p.id, prescription_id=ctx.prescription.id, number=i + 1, scheduled_for=at,
                        status=SessionStatus.COMPLETED, sitter_name="Sam", sitter_phone="+12125550123",
                        sitter_confirmed_at=at, started_at=at, completed_at=at + timedelta(hours=2),
                        gate_results=GATES)
        db.session.add(s)
        db.session.flush()
        db.session.add(BloodPressureReading(patient_id=p.id, session_id=s.id, systolic=118 + i, diastolic=76,
                                            taken_at=at - timedelta(minutes=30), source=BpSource.APP
                                            if hasattr(BpSource, "APP") else list(BpSource)[0], band=BpBand.GO))
        _measure(db, p, "phq9", max(3, 19 - 2 * i), "moderate", at + timedelta(days=1))
        db.session.add(ClinicalAlert(kind="side_effect", urgency="routine", patient_id=p.id, summary=f"Nausea {i}",
                                     created_at=at + timedelta(hours=3), status=AlertStatus.ACKNOWLEDGED,
                                     acknowledged_at=at + timedelta(hours=4), acknowledged_by=doc.id))
    db.session.add(AdverseEvent(patient_id=p.id, grade=AdverseGrade.MODERATE, description="Nausea after session",
                                source="check_in", opened_at=now() - timedelta(days=2)))
    db.session.add(TreatmentPause(patient_id=p.id, reason="Waiting on a lab result", started_at=now() - timedelta(days=9),
                                  started_by=doc.id, cleared_at=now() - timedelta(days=8), cleared_by=doc.id,
                                  clearance_note="Lab result fine"))
    coach_visit = encounter(db, p, doc, now() - timedelta(days=5), type_="coaching_30")
    coach = ctx.coach
    coach_visit.provider_id = coach.id
    db.session.add(CoachingNote(appointment_id=coach_visit.id, patient_id=p.id, coach_id=coach.id,
                                private_note="Coach private words", patient_summary="We practised box breathing",
                                created_at=now() - timedelta(days=5)))
    db.session.add(FollowUpDecision(patient_id=p.id, physician_id=doc.id, decision=DecisionKind.CONTINUE,
                                    note="Good response so far", decided_at=now() - timedelta(days=3)))
    db.session.add(Diagnosis(patient_id=p.id, physician_id=doc.id, code="F33.2",
                             description="Major depressive disorder, recurrent severe", recorded_on=date(2026, 2, 1)))
    db.session.add(RecordRelease(patient_id=p.id, recipient_name="Dr. Outside", recipient_organization="Lake Clinic",
                                 recipient_contact=None, scope="progress_report", wording="I authorize...",
                                 wording_version="1", granted_at=now() - timedelta(days=1),
                                 expires_at=now() + timedelta(days=60)))
    db.session.commit()


@pytest.fixture
def ctx(app, db, create_user, clock):
    ctx = ready(db, create_user)
    ctx.coach = create_user("coach", display_name="Jordan Lee")
    profile = ctx.patient.patient_profile
    profile.legal_first_name, profile.legal_last_name = "Quinn", "Treatment"
    ctx.physician.display_name = "Dr. Priya Chen"
    db.session.commit()
    return ctx


def _chart(client, patient_id, **query):
    return client.get(f"/patients/{patient_id}", query_string=query, headers=BROWSER)


def _audits(db, patient_id, resource):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == patient_id, AuditEvent.resource_type == resource, AuditEvent.action == "read"))


# --------------------------------------------------------------------------- the list


def test_the_list_shows_my_patients_with_status_and_latest_phq9_and_searches_by_name(client, db, ctx, create_user):
    _measure(db, ctx.patient, "phq9", 17, "moderately_severe", now() - timedelta(days=10))
    _measure(db, ctx.patient, "phq9", 8, "mild", now() - timedelta(days=1))
    other = create_user("patient", legal_first_name="Ada", legal_last_name="Zed")
    stranger = create_user("patient", legal_first_name="Nobody", legal_last_name="Mine")
    db.session.add(CareAssignment(patient_id=other.id, staff_id=ctx.physician.id, care_role=CareRole.PHYSICIAN))
    db.session.add(TreatmentPause(patient_id=other.id, reason="r", started_at=now(), started_by=ctx.physician.id))
    db.session.commit()
    _sign_in(client, ctx.physician)
    r = client.get("/patients", headers=BROWSER)
    assert r.status_code == 200
    words = text_of(r)
    assert "Quinn Treatment" in words and "Ada Zed" in words and "Nobody Mine" not in words
    assert re.search(r"Quinn Treatment \d+ NY Active treatment 8 \(mild, ", words)  # the latest, not the first
    assert re.search(r"Ada Zed \d+ NY Paused None yet", words)
    assert re.search(r"Quinn Treatment \d+ NY Active treatment 8", words)
    assert f'href="/patients/{ctx.patient.id}"' in r.get_data(as_text=True)
    # a search goes by POST: a patient's name never sits in the address (history, logs)
    found = submit(client, "/patients", {"q": "zed"}, headers=BROWSER)
    assert "Ada Zed" in text_of(found) and "Quinn Treatment" not in text_of(found)
    assert "1 patient matches" in text_of(found) and 'method="get"' not in found.get_data(as_text=True)
    assert "No patient on your care team matches" in text_of(submit(client, "/patients", {"q": "nobody"},
                                                                      headers=BROWSER))
    everyone = text_of(client.get("/patients?q=zed", headers=BROWSER))  # words in the address: ignored
    assert "Ada Zed" in everyone and "Quinn Treatment" in everyone
    assert stranger.id  # on no care team of this physician's
    assert client.get("/patients?page=abc", headers=BROWSER).status_code == 422


def test_the_list_pages_and_costs_the_same_statements_for_2_or_10_patients(client, db, ctx, create_user,
                                                                          count_queries):
    def add(n):
        for i in range(n):
            p = create_user("patient", legal_first_name="Pat", legal_last_name=f"Zz{i:02d}")
            db.session.add(CareAssignment(patient_id=p.id, staff_id=ctx.physician.id, care_role=CareRole.PHYSICIAN))
            _measure(db, p, "phq9", 12, "moderate", now() - timedelta(days=1))
        db.session.commit()

    _sign_in(client, ctx.physician)
    add(1)
    with count_queries() as few:
        assert client.get("/patients", headers=BROWSER).status_code == 200
    add(8)
    with count_queries() as many:
        r = client.get("/patients", headers=BROWSER)
    assert "Pat Zz07" in text_of(r)
    assert many.count == few.count, (few.statements, many.statements)
    # 10 patients, 4 a page: three pages
    r = client.get("/patients?page=3", headers=BROWSER)
    assert r.status_code == 200
    from telehealth.services.care import chart
    listing = chart.my_patients(ctx.physician, page=3, per_page=4)
    assert listing.total == 10 and listing.pages == 3 and len(listing.rows) == 2 and not listing.has_next


# --------------------------------------------------------------------------- the chart


def test_each_section_of_the_chart_shows_the_patients_data(client, db, ctx):
    _history(db, ctx, 3)
    _sign_in(client, ctx.physician)
    r = _chart(client, ctx.patient.id)
    assert r.status_code == 200, text_of(r)
    words = text_of(r)
    assert "Quinn Treatment" in words and "Active treatment" in words
    assert "Your opening of this chart was recorded" in words
    # outcomes: baseline 20 (before the first session), latest 15: not a response
    outcomes = words.split("Outcomes Outcomes from baseline")[1].split("Depression (PHQ-9)")[0]
    assert re.search(r"PHQ-9 20 .*? 15 .*? -5 \(-25%\) No No No", outcomes), outcomes
    assert "GAD-7 15" in outcomes and "Not measured yet" in outcomes
    # the score chart (the patient's own SVG) with every score in its table
    html = r.get_data(as_text=True)
    assert 'class="score-chart"' in html and "Depression (PHQ-9): every score" in words
    # safety first: the open side effect and the latest reading
    safety = words.split("Timeline Safety")[1].split("Outcomes Outcomes from baseline")[0]
    assert "1 open side effect" in safety and "Nausea after session" in safety and "Not paused" in safety
    assert "120/76" in safety
    # sessions with their gates and readings
    assert "All 3 held" in words and "Met: Sitter present" in words and "118/76 go" in words
    # pauses, prescriptions, shipments, coaching, decisions, diagnoses, releases
    assert "Waiting on a lab result" in words and "Lab result fine" in words
    assert re.search(r"Prescriptions, every version .{0,120}? 1 Active Ketamine sublingual tablet 100 mg; "
                     r"200 mg a session", words)
    assert re.search(r"Shipments Medication stages.{0,80}? 1 3 Delivered", words)
    assert "We practised box breathing" in words and "Jordan Lee" in words
    assert "Coach private words" in words  # the timeline shows a physician the coach's private note
    assert "Good response so far" in words
    assert "F33.2 Major depressive disorder" in words
    assert "Dr. Outside, Lake Clinic : progress report Active" in words
    assert "Timeline" in words and "Blood-pressure reading" in words
    # the chart leads to prescribing for this patient
    assert f'href="/patients/{ctx.patient.id}/prescribe"' in html


def test_a_crisis_alert_and_who_acknowledged_it_stay_in_the_chart(app, client, db, ctx, create_user):
    from telehealth.services.screening import crisis

    colleague = create_user("physician", states=["NY"], display_name="Dr. Sam Other")
    crisis.alert_on_call("Answered 'yes' to thoughts of self-harm in a check-in.", patient_id=ctx.patient.id)
    db.session.commit()
    _sign_in(client, ctx.physician)
    words = text_of(_chart(client, ctx.patient.id))
    safety = words.split("Timeline Safety")[1].split("Outcomes Outcomes from baseline")[0]
    assert "1 open alert" in safety
    assert re.search(r"Latest alert: Crisis , raised .{5,40}: Answered 'yes' to thoughts of self-harm in a "
                     r"check-in\. Open not yet acknowledged", safety), safety
    assert "Crisis alert raised · Answered 'yes' to thoughts of self-harm in a check-in. (urgent; still open)" in words
    alert_id = db.session.scalar(select(ClinicalAlert.id))
    other = sessions_support.login(app, colleague)
    assert other.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={}).status_code == 200
    words = text_of(_chart(client, ctx.patient.id))
    safety = words.split("Timeline Safety")[1].split("Outcomes Outcomes from baseline")[0]
    assert "No open alert" in safety and "Acknowledged by Dr. Sam Other" in safety
    assert "Crisis alert acknowledged · By Dr. Sam Other" in words
    assert "(urgent; acknowledged by Dr. Sam Other)" in words


def test_an_adjusted_prescription_shows_every_version(client, db, ctx):
    old = ctx.prescription
    old.status, old.superseded_at = "superseded", now()
    db.session.add(Prescription(patient_id=ctx.patient.id, physician_id=ctx.physician.id, medication="ketamine",
                                form="troche", strength_mg=100, dose_per_session_mg=300, sessions=6, refills=1,
                                directions="Hold under the tongue.", diagnosis_code="F33.2", version=2,
                                supersedes_id=old.id, lineage_id=old.id,
                                refills_until=now().date() + timedelta(days=180),
                                encounter_appointment_id=old.encounter_appointment_id, license_state="NY",
                                license_number="NY1", dea_number="AB1234563", signed_at=now()))
    db.session.commit()
    _sign_in(client, ctx.physician)
    r = _chart(client, ctx.patient.id)
    words, html = text_of(r), r.get_data(as_text=True)
    assert re.search(r"2 Active Ketamine troche 100 mg; 300 mg a session, 6 sessions, 1 refill \(until .*"
                     r"Medication stages Change \(new version\) 1 Superseded Ketamine sublingual tablet.*Not current",
                     words)
    # the active version only leads to its stages and to a new version
    new = db.session.scalar(select(Prescription).where(Prescription.version == 2, Prescription.lineage_id == old.id))
    for path in (f"/prescriptions/{new.id}/stages", f"/prescriptions/{new.id}/change"):
        assert f'href="{path}"' in html
    assert f'href="/prescriptions/{old.id}/stages"' not in html and f'href="/prescriptions/{old.id}/change"' not in html


def test_every_opening_writes_one_audit_row_and_no_other_read(client, db, ctx):
    _history(db, ctx, 2)
    _sign_in(client, ctx.physician)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.patient_id == ctx.patient.id, AuditEvent.action == "read"))
    assert _chart(client, ctx.patient.id).status_code == 200
    assert _chart(client, ctx.patient.id).status_code == 200
    rows = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == ctx.patient.id, AuditEvent.action == "read").order_by(AuditEvent.id)))
    new = rows[before:]
    assert [(e.resource_type, e.actor_id) for e in new] == [("patient_chart", ctx.physician.id)] * 2
    assert "timeline" in new[0].fields and "prescriptions" in new[0].fields


def test_the_chart_costs_the_same_statements_for_a_short_and_a_long_history(client, db, ctx, create_user,
                                                                           count_queries):
    small = ctx
    _history(db, small, 1)
    big = ready(db, create_user)
    big.coach = ctx.coach
    _history(db, big, 12)
    db.session.add(CareAssignment(patient_id=big.patient.id, staff_id=ctx.physician.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    _sign_in(client, ctx.physician)
    _chart(client, small.patient.id)  # warm up: the first request loads what any request loads once
    with count_queries() as short:
        assert _chart(client, small.patient.id).status_code == 200
    with count_queries() as long:
        r = _chart(client, big.patient.id)
    assert r.status_code == 200 and "All 3 held" in text_of(r)
    assert long.count == short.count, (short.statements, long.statements)


def test_the_timeline_pages_to_older_events(client, db, ctx):
    _history(db, ctx, 12)
    _sign_in(client, ctx.physician)
    html = _chart(client, ctx.patient.id).get_data(as_text=True)
    older = re.search(r'href="(/patients/\d+\?before=[^"#]+)#timeline">Older events', html)
    assert older, "a long history has an 'older' link"
    r = client.get(older.group(1).replace("&amp;", "&"), headers=BROWSER)
    words = text_of(r)
    assert r.status_code == 200 and "Timeline: older events" in words and "Newest events" in words
    assert _chart(client, ctx.patient.id, before="not-a-cursor").status_code == 422


# --------------------------------------------------------------------------- who may open it


def test_a_physician_not_on_the_care_team_gets_the_403_page_in_words(client, db, ctx, create_user):
    outsider = create_user("physician", states=["NY"])
    _sign_in(client, outsider)
    for url in (f"/patients/{ctx.patient.id}", f"/patients/{ctx.patient.id}/follow-up"):
        r = client.get(url, headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html", url
        assert "You do not have access to this part of the patient's record." in text_of(r)
    r = submit(client, f"/patients/{ctx.patient.id}/pause", {"reason": "x"}, token_from="/patients")
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(TreatmentPause)) == 0
    assert "Quinn" not in text_of(client.get("/patients", headers=BROWSER))
    assert client.get("/patients/999999", headers=BROWSER).status_code == 404


@pytest.mark.parametrize("role", ["coach", "ops", "admin", "patient"])
def test_other_roles_get_the_403_page(client, db, ctx, create_user, role):
    user = ctx.patient if role == "patient" else create_user(role)
    _sign_in(client, user)
    for url in ("/patients", f"/patients/{ctx.patient.id}", f"/patients/{ctx.patient.id}/follow-up"):
        r = client.get(url, headers=BROWSER)
        assert r.status_code == 403 and "not part of your account" in text_of(r), (role, url)


# --------------------------------------------------------------------------- the follow-up


def _decide(client, ctx, **form):
    return submit(client, f"/patients/{ctx.patient.id}/follow-up", form)


def _decisions(db):
    return db.session.scalar(select(func.count()).select_from(FollowUpDecision))


def test_the_follow_up_page_shows_the_latest_measures_beside_the_form(client, db, ctx):
    _history(db, ctx, 3)
    _sign_in(client, ctx.physician)
    r = client.get(f"/patients/{ctx.patient.id}/follow-up", headers=BROWSER)
    words = text_of(r)
    assert r.status_code == 200
    assert re.search(r"Latest measures PHQ-9 15 moderate", words) and "baseline 20; change -5" in words
    assert "1 open" in words and "Nausea after session" in words and "Record the decision" in words
    assert 'name="strength_mg" type="number" inputmode="numeric" min="0" value="100"' in r.get_data(as_text=True)


def test_a_continue_decision_is_recorded_and_shown_on_the_chart(client, db, ctx):
    _sign_in(client, ctx.physician)
    r = _decide(client, ctx, decision="continue", note="Doing well; same plan.",
                form="troche", strength_mg="999")  # the terms are ignored unless adjusting
    assert r.status_code == 302 and r.headers["Location"] == f"/patients/{ctx.patient.id}"
    words = text_of(client.get(r.headers["Location"], headers=BROWSER))
    assert "Decision recorded: Continue. Treatment status: active treatment." in words
    assert "Doing well; same plan." in words
    assert _decisions(db) == 1


def test_decision_refusals_are_in_words_and_write_nothing(client, db, ctx):
    _sign_in(client, ctx.physician)
    r = _decide(client, ctx, note="")
    assert r.status_code == 422
    words = text_of(r)
    assert "Decision: This field is required." in words and "Note: This field is required." in words
    r = _decide(client, ctx, decision="adjust", note="More", strength_mg="", sessions="99")
    assert r.status_code == 422 and 'id="decision-sessions"' in r.get_data(as_text=True)
    assert "aria-invalid" in r.get_data(as_text=True)
    db.session.add(PatientTreatmentPhase(patient_id=ctx.patient.id, phase=TreatmentPhase.DISCHARGED,
                                         changed_at=now()))
    db.session.commit()
    r = _decide(client, ctx, decision="continue", note="Keep going")
    assert r.status_code == 409
    assert "This patient was discharged: record a resume decision to treat them again." in text_of(r)
    assert 'value="continue" checked' in r.get_data(as_text=True) and "Keep going" in text_of(r)
    assert _decisions(db) == 0


def _seen(client, ctx) -> str:
    """The newest decision the follow-up form says it saw, as a browser would send it back."""
    html = client.get(f"/patients/{ctx.patient.id}/follow-up", headers=BROWSER).get_data(as_text=True)
    return re.search(r'name="seen_latest_id" value="(\d+)"', html).group(1)


def test_the_same_form_posted_twice_records_one_decision_and_says_why_not_the_second(client, db, ctx):
    _sign_in(client, ctx.physician)
    seen = _seen(client, ctx)
    assert seen == "0"
    form = {"decision": "continue", "note": "Same plan.", "seen_latest_id": seen}
    assert _decide(client, ctx, **form).status_code == 302
    r = _decide(client, ctx, **form)  # a second click, or the same form in another tab
    assert r.status_code == 409
    assert ("You recorded a decision for this patient since you opened this page; yours was not recorded. "
            "Review it first.") in text_of(r)
    assert _decisions(db) == 1
    # the page now names the decision it shows: a deliberate second decision goes through
    seen = _seen(client, ctx)
    assert seen == str(db.session.scalar(select(FollowUpDecision.id)))
    assert _decide(client, ctx, **{**form, "seen_latest_id": seen}).status_code == 302
    assert _decisions(db) == 2


def test_a_colleagues_decision_since_the_page_was_opened_is_named_and_nothing_is_recorded(client, db, ctx,
                                                                                          create_user):
    colleague = create_user("physician", states=["NY"], display_name="Dr. Sam Other")
    db.session.add(CareAssignment(patient_id=ctx.patient.id, staff_id=colleague.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    _sign_in(client, ctx.physician)
    seen = _seen(client, ctx)
    db.session.add(FollowUpDecision(patient_id=ctx.patient.id, physician_id=colleague.id,
                                    decision=DecisionKind.PAUSE, note="BP", decided_at=now()))
    db.session.commit()
    r = _decide(client, ctx, decision="continue", note="Same plan.", seen_latest_id=seen)
    assert r.status_code == 409
    assert "Dr. Sam Other recorded a decision for this patient since you opened this page" in text_of(r)
    assert "Same plan." in text_of(r)  # what was typed is kept
    assert _decisions(db) == 1


def test_a_pause_decision_pauses_and_a_resume_decision_lifts_it(client, db, ctx):
    _sign_in(client, ctx.physician)
    assert _decide(client, ctx, decision="pause", note="Blood pressure trend").status_code == 302
    assert "Decision recorded: Pause. Treatment status: paused." in text_of(
        client.get(f"/patients/{ctx.patient.id}", headers=BROWSER))
    assert _decide(client, ctx, decision="resume", note="Trend settled").status_code == 302
    assert _decisions(db) == 2
    assert db.session.scalar(select(func.count()).select_from(TreatmentPause).where(
        TreatmentPause.cleared_at.is_(None))) == 0


def test_pause_and_resume_with_a_reason_and_refusals_in_words(client, db, ctx):
    _sign_in(client, ctx.physician)
    url = f"/patients/{ctx.patient.id}"
    r = submit(client, f"{url}/pause", {"reason": ""}, token_from=f"{url}/follow-up")
    assert r.status_code == 422 and "Pause treatment" in text_of(r)
    assert 'id="pause-reason"' in r.get_data(as_text=True) and 'aria-invalid="true"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TreatmentPause)) == 0
    r = submit(client, f"{url}/pause", {"reason": "Awaiting a cardiology opinion"}, token_from=f"{url}/follow-up")
    assert r.status_code == 302 and r.headers["Location"] == f"{url}/follow-up"
    words = text_of(client.get(r.headers["Location"], headers=BROWSER))
    assert "Treatment is paused" in words and "Awaiting a cardiology opinion" in words and "Resume treatment" in words
    r = submit(client, f"{url}/pause", {"reason": "Again"}, token_from=f"{url}/follow-up")
    assert r.status_code == 409 and "Treatment is already paused." in text_of(r)
    r = submit(client, f"{url}/resume", {"note": ""}, token_from=f"{url}/follow-up")
    assert r.status_code == 422 and 'id="resume-note"' in r.get_data(as_text=True)
    r = submit(client, f"{url}/resume", {"note": "Opinion received: fine"}, token_from=f"{url}/follow-up")
    assert r.status_code == 302
    assert "Treatment is resumed" in text_of(client.get(r.headers["Location"], headers=BROWSER))
    r = submit(client, f"{url}/resume", {"note": "Again"}, token_from=f"{url}/follow-up")
    assert r.status_code == 409 and "Treatment is not paused." in text_of(r)
    pause = db.session.scalar(select(TreatmentPause))
    assert pause.cleared_by == ctx.physician.id and pause.clearance_note == "Opinion received: fine"


def test_clearing_a_side_effect_needs_a_note(client, db, ctx):
    event = AdverseEvent(patient_id=ctx.patient.id, grade=AdverseGrade.SERIOUS, description="Fainted",
                         source="check_in", opened_at=now() - timedelta(hours=3))
    db.session.add(event)
    db.session.commit()
    _sign_in(client, ctx.physician)
    follow = f"/patients/{ctx.patient.id}/follow-up"
    assert "Serious Fainted" in text_of(client.get(follow, headers=BROWSER))
    r = submit(client, f"/adverse-events/{event.id}/clear", {"note": " "}, token_from=follow)
    assert r.status_code == 422 and f'id="clear-{event.id}-note"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AdverseEvent, event.id).cleared_at is None
    r = submit(client, f"/adverse-events/{event.id}/clear", {"note": "Seen by GP, vasovagal"}, token_from=follow)
    assert r.status_code == 302 and r.headers["Location"] == follow
    db.session.expire_all()
    cleared = db.session.get(AdverseEvent, event.id)
    assert cleared.cleared_by == ctx.physician.id and cleared.clearance_note == "Seen by GP, vasovagal"
    words = text_of(client.get(f"/patients/{ctx.patient.id}", headers=BROWSER))
    assert "No open side effect" in words and "Seen by GP, vasovagal" in words
    assert submit(client, "/adverse-events/999999/clear", {"note": "x"}, token_from=follow).status_code == 404


def test_the_chart_links_to_the_video_room_of_my_next_appointment_only_when_that_page_exists(client, db, ctx, app):
    visit = Appointment(patient_id=ctx.patient.id, provider_id=ctx.physician.id, appointment_type="follow_up",
                        starts_at=now() + timedelta(days=2), ends_at=now() + timedelta(days=2, minutes=30),
                        blocks_from=now() + timedelta(days=2), blocks_until=now() + timedelta(days=2, minutes=30),
                        status=AppointmentStatus.BOOKED, credit_kind="follow_up", video_room="room-x-chart")
    db.session.add(visit)
    db.session.commit()
    _sign_in(client, ctx.physician)
    words = text_of(_chart(client, ctx.patient.id))
    assert "Next appointment Physician follow-up, " in words and "with Dr. Priya Chen" in words
    assert ("Open the video room" in words) == ("consult_pages.room" in app.view_functions)


def test_an_adjust_decision_signs_a_new_version_from_the_form(client, db, ctx, totp):
    profile = ctx.physician.physician_profile
    profile.dea_number, profile.dea_expires_on = "AB1234563", date(2030, 1, 1)
    db.session.commit()
    _sign_in(client, ctx.physician)
    terms = {"form": "sublingual_tablet", "strength_mg": "100", "dose_per_session_mg": "300", "sessions": "6",
             "refills": "0", "directions": "Dissolve under the tongue with your sitter present.",
             "diagnosis_code": "F33.2"}
    # without the second factor the adjustment is refused beside the code's input, and nothing is signed
    r = _decide(client, ctx, decision="adjust", note="Partial response: dose up to 300 mg.", **terms)
    assert r.status_code == 403, text_of(r)
    assert "authenticator" in text_of(r) and 'id="decision-second_factor_code-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Prescription)) == 1
    r = _decide(client, ctx, decision="adjust", note="Partial response: dose up to 300 mg.",
                second_factor_code=totp.code(ctx.physician), **terms)
    assert r.status_code == 302, text_of(r)
    words = text_of(client.get(r.headers["Location"], headers=BROWSER))
    assert "Decision recorded: Adjust." in words
    assert re.search(r"2 Active Ketamine sublingual tablet 100 mg; 300 mg a session.*1 Superseded", words)
    assert db.session.scalar(select(func.count()).select_from(Prescription)) == 2

"""The screening end to end: anonymous and logged-in submission, drafts, claiming, the crisis path,
clinical review with its SLA, repeated measures, and who may read what."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    Assessment, AuditEvent, CareAssignment, CareRole, ClinicalAlert, Measure, OutboxMail, User,
)
from tests.conftest import error_of
from tests.screening_data import gad7_answers, phq9_answers, valid_screening_answers
from tests.accounts.test_auth import signup_body

# Words that would mean the crisis path offers something for sale ("plan" is not one: a suicide plan).
SELLING = re.compile(r"\b(package|price|purchase|buy|checkout|payment|subscri\w*|discount)\b|\$\d", re.I)


@pytest.fixture
def ny_physician(create_user):
    """A physician licensed in NY, so NY residents are serviced (not waitlisted)."""
    return create_user("physician", states=["NY"])


def submit(client, answers=None, **extra):
    body = {"questionnaire": "screening", "version": 1, "answers": answers or valid_screening_answers(), **extra}
    return client.post("/api/v1/assessments", json=body)


def _rows(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- submission


def test_anonymous_submission_returns_outcome_scores_and_claim_token(client, db, ny_physician):
    r = submit(client)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["outcome"] == "likely_candidate" and body["reasons"] == []
    assert body["scores"]["phq9"] == {"total": 16, "band": "moderately_severe"}
    assert body["scores"]["gad7"] == {"total": 12, "band": "moderate"}
    assert body["scores"]["cssrs_risk"] == "none"
    assert body["claim_token"] and body["crisis_resources"] == []
    assert body["review"]["status"] == "pending" and body["review"]["urgent"] is False
    stored = db.session.get(Assessment, body["id"])
    assert stored.patient_id is None and stored.questionnaire_version == 1
    assert stored.review_due_at - stored.submitted_at == timedelta(hours=24)
    assert stored.token_hash and stored.token_hash != body["claim_token"]
    assert _rows(db, Measure) == 0 and _rows(db, ClinicalAlert) == 0


def test_state_without_a_licensed_physician_is_waitlisted(client, db, create_user):
    create_user("physician", states=["NY"], license_expires=now().date() - timedelta(days=1))
    body = submit(client).get_json()
    assert body["outcome"] == "waitlist"
    assert [r["rule"] for r in body["reasons"]] == ["waitlist.state_unserviced"]
    create_user("physician", states=["NY"])
    assert submit(client).get_json()["outcome"] == "likely_candidate"


def test_hard_stop_is_not_eligible_with_reasons(client, ny_physician):
    body = submit(client, valid_screening_answers(medical={"pregnant_or_breastfeeding": True})).get_json()
    assert body["outcome"] == "not_eligible"
    assert "stop.pregnancy" in [r["rule"] for r in body["reasons"]]
    assert all(r["message"] for r in body["reasons"])


@pytest.mark.parametrize("overrides, rule", [
    ({"phq9": phq9_answers(16, item9=1)}, "crisis.phq9_item9"),
    ({"cssrs": {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}}, "crisis.cssrs_intent_or_plan"),
    ({"cssrs": {"q1": False, "q2": False, "q6": True, "q6_recent": True}}, "crisis.cssrs_recent_behavior"),
])
def test_crisis_path_end_to_end(client, auth, db, ny_physician, overrides, rule, app):
    earlier = submit(client).get_json()  # an older, non-urgent item already in the queue
    r = submit(client, valid_screening_answers(**overrides))
    assert r.status_code == 201
    body = r.get_json()
    assert body["outcome"] == "crisis" and rule in [x["rule"] for x in body["reasons"]]
    resources = " ".join(f"{x['name']} {x['how']} {x['phone']} {x['sms']}" for x in body["crisis_resources"])
    assert "988" in resources and "741741" in resources and "HOME" in resources and "911" in resources
    assert not SELLING.search(str({k: v for k, v in body.items() if k != "claim_token"}))
    assert body["review"]["urgent"] is True
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert alert.assessment_id == body["id"] and alert.urgency == "urgent" and alert.status == "pending"
    assert alert.recipient == "on_call_physician"

    auth.login(ny_physician)
    queue = client.get("/api/v1/reviews").get_json()["items"]
    assert [item["assessment_id"] for item in queue] == [body["id"], earlier["id"]]
    assert queue[0]["urgent"] is True and queue[0]["seconds_left"] > 0
    alerts = client.get("/api/v1/alerts").get_json()["items"]
    assert [a["assessment_id"] for a in alerts] == [body["id"]]


def test_logged_in_patient_submission_belongs_to_them_and_starts_their_history(client, auth, db, ny_physician):
    patient = auth.as_role("patient")
    body = submit(client).get_json()
    assert body["claim_token"] is None
    assert db.session.get(Assessment, body["id"]).patient_id == patient.id
    history = client.get("/api/v1/me/measures").get_json()["items"]
    assert sorted((m["instrument"], m["total"], m["source"]) for m in history) == [
        ("gad7", 12, "screening"), ("phq9", 16, "screening")]
    mine = client.get("/api/v1/me/assessments").get_json()["items"]
    assert [a["id"] for a in mine] == [body["id"]]


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b["answers"]["phq9"].update(q10=1), "answers.phq9.q10"),
    (lambda b: b["answers"]["phq9"].update(q1=4), "answers.phq9.q1"),
    (lambda b: b["answers"]["phq9"].update(q1="2"), "answers.phq9.q1"),
    (lambda b: b["answers"]["medical"].update(pregnant_or_breastfeeding=1), "answers.medical.pregnant_or_breastfeeding"),
    (lambda b: b["answers"].pop("medical"), "answers.medical"),
    (lambda b: b["answers"].update(horoscope={"sign": "leo"}), "answers.horoscope"),
    (lambda b: b.update(version=99), "version"),
    (lambda b: b.update(questionnaire="phq9"), "questionnaire"),
    (lambda b: b.update(questionnaire="astrology"), "questionnaire"),
    (lambda b: b.update(answers=[]), "answers"),
])
def test_bad_submissions_are_refused_with_field_errors_and_store_nothing(client, db, ny_physician, mutate, field):
    body = {"questionnaire": "screening", "version": 1, "answers": valid_screening_answers()}
    mutate(body)
    r = client.post("/api/v1/assessments", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in error_of(r)["fields"], error_of(r)
    assert _rows(db, Assessment) == 0 and _rows(db, ClinicalAlert) == 0 and _rows(db, AuditEvent) == 0


def test_anonymous_submissions_are_rate_limited(client, app, monkeypatch, ny_physician):
    monkeypatch.setitem(app.config, "ASSESSMENT_RATE_LIMIT", "2 per hour")
    assert [submit(client).status_code for _ in range(3)] == [201, 201, 429]


# --------------------------------------------------------------------------- claiming


def test_signing_up_claims_the_anonymous_screening(client, db, ny_physician):
    result = submit(client).get_json()
    r = client.post("/api/v1/auth/signup", json=signup_body(assessment_claim_token=result["claim_token"]))
    assert r.status_code == 201, r.get_json()
    patient_id = r.get_json()["id"]
    assessment = db.session.get(Assessment, result["id"])
    assert assessment.patient_id == patient_id and assessment.token_hash is None
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 200
    assert {m.instrument for m in db.session.scalars(select(Measure).where(Measure.patient_id == patient_id))} == {
        "phq9", "gad7"}
    # the token worked once
    other = client.post("/api/v1/auth/signup", json=signup_body(email="second@example.org",
                                                               assessment_claim_token=result["claim_token"]))
    assert other.status_code == 422 and "assessment_claim_token" in error_of(other)["fields"]
    assert db.session.scalar(select(User).where(User.email == "second@example.org")) is None


def test_claim_endpoint_refuses_forged_and_reused_tokens(client, auth, db, ny_physician):
    result = submit(client).get_json()
    auth.as_role("patient")
    r = client.post("/api/v1/assessments/claim", json={"claim_token": "forged-" + "x" * 30})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"
    r = client.post("/api/v1/assessments/claim", json={"claim_token": result["claim_token"]})
    assert r.status_code == 200 and r.get_json()["patient_id"] is not None
    r = client.post("/api/v1/assessments/claim", json={"claim_token": result["claim_token"]})
    assert r.status_code == 422 and "claim_token" in error_of(r)["fields"]


def test_claiming_a_crisis_screening_ties_its_alert_to_the_patient(client, auth, db, ny_physician):
    result = submit(client, valid_screening_answers(phq9=phq9_answers(12, item9=2))).get_json()
    patient = auth.as_role("patient")
    client.post("/api/v1/assessments/claim", json={"claim_token": result["claim_token"]})
    assert db.session.scalar(select(ClinicalAlert)).patient_id == patient.id


# --------------------------------------------------------------------------- drafts


def test_a_draft_survives_a_closed_tab(client, app, db, ny_physician):
    full = valid_screening_answers()
    r = client.post("/api/v1/assessments/drafts",
                    json={"questionnaire": "screening", "version": 1, "answers": {"phq9": full["phq9"]}})
    assert r.status_code == 200, r.get_json()
    token = r.get_json()["token"]
    assert "phq9" not in r.get_json()["missing_sections"] and "medical" in r.get_json()["missing_sections"]

    new_tab = app.test_client()
    resumed = new_tab.post("/api/v1/assessments/drafts/resume", json={"token": token}).get_json()
    assert resumed["answers"]["phq9"] == full["phq9"]
    partial = {k: full[k] for k in ("phq9", "gad7", "cssrs")}
    saved = new_tab.post("/api/v1/assessments/drafts", json={"questionnaire": "screening", "version": 1,
                                                               "answers": partial, "token": token}).get_json()
    assert saved["token"] == token and set(saved["missing_sections"]) == {"treatment_history", "medical"}
    r = new_tab.post("/api/v1/assessments/drafts/submit", json={"token": token})
    assert r.status_code == 422 and "answers.medical" in error_of(r)["fields"]
    r = new_tab.post("/api/v1/assessments/drafts/submit", json={"token": token, "answers": full})
    assert r.status_code == 201 and r.get_json()["outcome"] == "likely_candidate"
    assert _rows(db, Assessment) == 1
    r = new_tab.post("/api/v1/assessments/drafts/resume", json={"token": token})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"


def test_a_draft_refuses_invalid_answers_and_keeps_the_old_ones(client, db):
    full = valid_screening_answers()
    token = client.post("/api/v1/assessments/drafts", json={"questionnaire": "screening", "version": 1,
                                                           "answers": {"phq9": full["phq9"]}}).get_json()["token"]
    r = client.post("/api/v1/assessments/drafts", json={"questionnaire": "screening", "version": 1, "token": token,
                                                        "answers": {"phq9": {**full["phq9"], "q3": 7}}})
    assert r.status_code == 422 and "answers.phq9.q3" in error_of(r)["fields"]
    resumed = client.post("/api/v1/assessments/drafts/resume", json={"token": token}).get_json()
    assert resumed["answers"]["phq9"] == full["phq9"]
    r = client.post("/api/v1/assessments/drafts", json={"questionnaire": "screening", "version": 1,
                                                        "answers": {"phq9": {"q1": 9}}})
    assert r.status_code == 422 and _rows(db, Assessment) == 1


# --------------------------------------------------------------------------- who may read


def test_minimum_necessary_access_to_assessments(client, app, auth, create_user, db, ny_physician):
    owner = auth.as_role("patient")
    result = submit(client).get_json()
    assert client.get(f"/api/v1/assessments/{result['id']}").get_json()["answers"]["phq9"]
    auth.logout()

    auth.as_role("patient")
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 404
    for role in ("ops", "coach", "admin"):
        auth.logout()
        auth.as_role(role)
        r = client.get(f"/api/v1/assessments/{result['id']}")
        assert r.status_code == 403, role
        assert client.get(f"/api/v1/patients/{owner.id}/measures").status_code == 403, role
    auth.logout()

    reviewer, bystander = create_user("physician"), create_user("physician")
    auth.login(bystander)
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 200  # open for review
    auth.logout()
    auth.login(reviewer)
    client.post(f"/api/v1/reviews/{result['id']}/decision", json={"decision": "approve"})
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 200  # decided on it
    auth.logout()
    auth.login(bystander)
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 403  # closed, not theirs
    db.session.add(CareAssignment(patient_id=owner.id, staff_id=bystander.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    assert client.get(f"/api/v1/assessments/{result['id']}").status_code == 200  # now their patient
    assert client.get(f"/api/v1/patients/{owner.id}/measures").status_code == 200
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "assessment",
                                                        AuditEvent.action == "read")).all()
    assert len(reads) == 4


# --------------------------------------------------------------------------- review


def test_review_decisions_and_what_the_patient_sees(client, app, auth, create_user, db, ny_physician):
    patient = auth.as_role("patient")
    result = submit(client).get_json()
    patient_client = client
    doc_client = app.test_client()
    doc_client.post("/api/v1/auth/login", json={"email": ny_physician.email, "password": "correct horse battery staple"})

    r = doc_client.post(f"/api/v1/reviews/{result['id']}/decision", json={"decision": "decline"})
    assert r.status_code == 422 and "message_to_patient" in error_of(r)["fields"]
    r = doc_client.post(f"/api/v1/reviews/{result['id']}/decision",
                        json={"decision": "request_info", "message_to_patient": "Which medicines do you take daily?",
                              "note": "check interactions"})
    assert r.status_code == 200 and r.get_json()["review"]["status"] == "info_requested"
    seen = patient_client.get(f"/api/v1/assessments/{result['id']}").get_json()
    assert seen["review"]["decisions"][0]["message_to_patient"] == "Which medicines do you take daily?"
    assert seen["review"]["decisions"][0]["private_note"] is None  # physicians' notes stay private
    assert doc_client.get(f"/api/v1/assessments/{result['id']}").get_json()["review"]["decisions"][0][
        "private_note"] == "check interactions"

    r = patient_client.post(f"/api/v1/assessments/{result['id']}/reply", json={"message": "Only sertraline."})
    assert r.status_code == 200 and r.get_json()["review"]["status"] == "pending"
    r = doc_client.post(f"/api/v1/reviews/{result['id']}/decision",
                        json={"decision": "decline", "message_to_patient": "Please see your own psychiatrist first."})
    assert r.status_code == 200 and r.get_json()["review"]["status"] == "declined"
    r = doc_client.post(f"/api/v1/reviews/{result['id']}/decision", json={"decision": "approve"})
    assert r.status_code == 409
    assert doc_client.get("/api/v1/reviews").get_json()["items"] == []
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.to_address == patient.email)).all()
    assert [m.kind for m in mails] == ["review_decision", "review_decision"]
    assert all("sertraline" not in m.body.lower() and "psychiatrist" not in m.body.lower() for m in mails)
    decisions = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "assessment_review")).all()
    assert [(e.actor_id, e.action) for e in decisions] == [
        (ny_physician.id, "update"), (patient.id, "update"), (ny_physician.id, "update")]


def test_review_queue_orders_urgent_then_oldest_with_time_left(client, app, auth, ny_physician):
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        first = submit(client).get_json()["id"]
        traveller.shift(timedelta(hours=1))
        second = submit(client).get_json()["id"]
        traveller.shift(timedelta(hours=1))
        urgent = submit(client, valid_screening_answers(phq9=phq9_answers(20, item9=1))).get_json()["id"]
        traveller.shift(timedelta(hours=22, minutes=30))
        auth.login(ny_physician)
        items = client.get("/api/v1/reviews").get_json()["items"]
    assert [i["assessment_id"] for i in items] == [urgent, first, second]
    by_id = {i["assessment_id"]: i for i in items}
    assert by_id[first]["overdue"] is True and by_id[first]["seconds_left"] == -30 * 60
    assert by_id[second]["overdue"] is False and by_id[second]["seconds_left"] == 30 * 60
    assert by_id[urgent]["outcome"] == "crisis" and by_id[urgent]["scores"]["phq9"]["total"] == 20


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_watch_the_queue_without_clinical_content(client, app, auth, ny_physician, role):
    """Order and SLA only: not which screening was a crisis, neither as a flag nor by its place."""
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        first = submit(client).get_json()["id"]
        traveller.shift(timedelta(minutes=5))
        crisis = submit(client, valid_screening_answers(phq9=phq9_answers(20, item9=1))).get_json()["id"]
        auth.as_role(role)
        items = client.get("/api/v1/reviews").get_json()["items"]
    assert [i["assessment_id"] for i in items] == [first, crisis]  # by SLA due time, crisis or not
    for item in items:
        assert item["urgent"] is None and item["seconds_left"] > 0
        assert item["outcome"] is None and item["reasons"] is None and item["scores"] is None
    schema = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ReviewItemOut"]
    assert "urgent" not in schema.get("required", [])  # the document says it may be absent or null


def test_sla_figures(client, app, auth, create_user, db, ny_physician):
    start = now().replace(microsecond=0)
    doc_client = app.test_client()
    with time_machine.travel(start, tick=False) as traveller:
        quick, slow, _never = (submit(client).get_json()["id"] for _ in range(3))
        traveller.shift(timedelta(hours=2))
        doc_client.post("/api/v1/auth/login", json={"email": ny_physician.email, "password": "correct horse battery staple"})
        assert doc_client.post(f"/api/v1/reviews/{quick}/decision", json={"decision": "approve"}).status_code == 200
        traveller.shift(timedelta(hours=28))
        doc_client.post("/api/v1/auth/login", json={"email": ny_physician.email, "password": "correct horse battery staple"})
        r = doc_client.post(f"/api/v1/reviews/{slow}/decision", json={"decision": "approve"})
        assert r.status_code == 200, r.get_json()
        auth.as_role("ops")
        r = client.get("/api/v1/reviews/sla", query_string={"since": (start - timedelta(days=1)).isoformat(),
                                                            "until": (start + timedelta(days=1)).isoformat()})
        bad_since = client.get("/api/v1/reviews/sla", query_string={"since": "yesterday"})
        naive_since = client.get("/api/v1/reviews/sla", query_string={"since": "2026-01-01T00:00:00"})
    assert r.status_code == 200, r.get_json()
    figures = r.get_json()
    assert figures["submitted"] == 3 and figures["reviewed"] == 2 and figures["reviewed_within_sla"] == 1
    assert figures["share_reviewed_within_sla"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["median_hours_to_review"] == 16.0
    assert figures["open"] == 1 and figures["open_overdue"] == 1
    assert bad_since.status_code == 422 and "since" in error_of(bad_since)["fields"]
    assert naive_since.status_code == 422  # a moment without a zone is ambiguous


# --------------------------------------------------------------------------- repeat measures


def test_retakes_build_a_dated_history(client, auth, db):
    patient = auth.as_role("patient")
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        for total in (18, 12, 7):
            auth.login(patient)  # two weeks apart: each visit is a new login
            r = client.post("/api/v1/me/measures", json={"instrument": "phq9", "version": 1,
                                                         "answers": {"phq9": phq9_answers(total)}})
            assert r.status_code == 201 and r.get_json()["crisis"] is False
            traveller.shift(timedelta(days=14))
        auth.login(patient)
        client.post("/api/v1/me/measures", json={"instrument": "gad7", "version": 1,
                                                 "answers": {"gad7": gad7_answers(9)}})
        history = client.get("/api/v1/me/measures?instrument=phq9").get_json()["items"]
        assert len(client.get("/api/v1/me/measures").get_json()["items"]) == 4
    assert [(m["total"], m["band"]) for m in history] == [(18, "moderately_severe"), (12, "moderate"), (7, "mild")]
    assert history[0]["taken_at"] < history[1]["taken_at"] < history[2]["taken_at"]


def test_a_retake_with_item_9_takes_the_crisis_path(client, auth, db):
    patient = auth.as_role("patient")
    r = client.post("/api/v1/me/measures", json={"instrument": "phq9", "version": 1,
                                                 "answers": {"phq9": phq9_answers(9, item9=1)}})
    assert r.status_code == 201
    body = r.get_json()
    assert body["crisis"] is True and any("988" in x["how"] for x in body["crisis_resources"])
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert alert.patient_id == patient.id and alert.measure_id == body["measure"]["id"]


def test_bad_retakes_store_nothing(client, auth, db):
    auth.as_role("patient")
    for body, field in [
        ({"instrument": "phq9", "version": 1, "answers": {"phq9": {"q1": 1}}}, "answers.phq9.q2"),
        ({"instrument": "phq9", "version": 2, "answers": {"phq9": phq9_answers(5)}}, "version"),
        ({"instrument": "gad7", "version": 1, "answers": {"phq9": phq9_answers(5)}}, "answers.phq9"),
        ({"instrument": "bdi", "version": 1, "answers": {}}, "instrument"),
    ]:
        r = client.post("/api/v1/me/measures", json=body)
        assert r.status_code == 422 and field in error_of(r)["fields"], (body, error_of(r))
    assert _rows(db, Measure) == 0


def test_alerts_are_acknowledged_once(client, auth, db, ny_physician):
    submit(client, valid_screening_answers(phq9=phq9_answers(14, item9=1)))
    auth.login(ny_physician)
    [alert] = client.get("/api/v1/alerts").get_json()["items"]
    r = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={})
    assert r.status_code == 200 and r.get_json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={}).status_code == 409
    assert client.get("/api/v1/alerts").get_json()["items"] == []


def test_policy_changes_move_the_outcome(client, app, monkeypatch, ny_physician):
    monkeypatch.setitem(app.config, "CLINICAL_POLICY", {"minimum_age_years": 45})
    body = submit(client).get_json()  # the test person is 40
    assert body["outcome"] == "not_eligible" and "stop.under_age" in [r["rule"] for r in body["reasons"]]


def test_answers_reasons_and_notes_are_encrypted_at_rest(client, auth, db, ny_physician):
    from sqlalchemy import text

    body = submit(client, valid_screening_answers(medical={"other_medications": "phenelzine"})).get_json()
    auth.login(ny_physician)
    client.post(f"/api/v1/reviews/{body['id']}/decision",
                json={"decision": "request_info", "message_to_patient": "Tell us about phenelzine",
                      "note": "possible MAOI"})
    answers, reasons = db.session.execute(text("SELECT answers, reasons FROM assessments")).one()
    note, message = db.session.execute(text("SELECT private_note, message_to_patient FROM review_decisions")).one()
    for raw in (answers, reasons, note, message):
        assert "phenelzine" not in raw.lower() and "maoi" not in raw.lower()


def test_concurrent_acknowledgements_succeed_once_and_keep_the_first(app, committed, live_server):
    import json

    from telehealth.services.screening import crisis
    from tests.conftest import PASSWORD, _make_user, post_concurrently

    doctors = [_make_user(committed, "physician", states=["NY"]) for _ in range(4)]
    patient = _make_user(committed, "patient")
    crisis.alert_on_call("A crisis answer.", patient_id=patient.id)
    committed.session.commit()
    alert_id = committed.session.scalar(select(ClinicalAlert.id))
    cookies = []
    for doctor in doctors:
        client = app.test_client()
        assert client.post("/api/v1/auth/login", json={"email": doctor.email, "password": PASSWORD}).status_code == 200
        name = app.config["SESSION_COOKIE_NAME"]
        cookies.append({"Cookie": f"{name}={client.get_cookie(name).value}"})
    answers = post_concurrently(f"{live_server}/api/v1/alerts/{alert_id}/acknowledge", [json.dumps({}).encode()] * 4,
                                cookies)
    assert sorted(code for code, _ in answers) == [200, 409, 409, 409], answers
    [winner] = [body for code, body in answers if code == 200]
    committed.session.expire_all()
    alert = committed.session.get(ClinicalAlert, alert_id)
    assert alert.acknowledged_by == winner["acknowledged_by"]
    assert committed.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.resource_type == "clinical_alert", AuditEvent.action == "update")) == 1

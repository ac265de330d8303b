"""Safety and robustness of the screening beyond the happy path: crisis help in unfinished or
invalid forms, conservative age on the calendar, audited clinical reads, crafted input."""
from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select, text

from telehealth.clock import now
from telehealth.models import Assessment, AuditEvent, ClinicalAlert
from tests.conftest import error_of, make_test_app
from tests.screening_data import phq9_answers, valid_screening_answers
from tests.screening.test_assessments import submit


@pytest.fixture
def ny_physician(create_user):
    return create_user("physician", states=["NY"])


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _draft(client, answers, token=None):
    body = {"questionnaire": "screening", "version": 1, "answers": answers}
    if token:
        body["token"] = token
    return client.post("/api/v1/assessments/drafts", json=body)


def test_crisis_answers_in_a_draft_get_help_and_one_alert(client, db, ny_physician):
    r = _draft(client, {"phq9": phq9_answers(14, item9=2)})
    assert r.status_code == 200
    body = r.get_json()
    assert body["crisis"] is True and any("988" in x["how"] for x in body["crisis_resources"])
    assert any("741741" in step for step in body["next_steps"])
    r = _draft(client, {"phq9": phq9_answers(14, item9=2), "gad7": valid_screening_answers()["gad7"]}, body["token"])
    assert r.get_json()["crisis"] is True
    assert _count(db, ClinicalAlert) == 1  # saving again does not alert again
    r = client.post("/api/v1/assessments/drafts/submit",
                    json={"token": body["token"], "answers": valid_screening_answers(phq9=phq9_answers(14, item9=2))})
    assert r.status_code == 201 and r.get_json()["outcome"] == "crisis"
    assert _count(db, ClinicalAlert) == 1
    # the unfinished crisis draft is urgent in the queue from the moment it was saved
    assert db.session.get(Assessment, r.get_json()["id"]).urgent is True


def test_an_invalid_submission_with_crisis_answers_still_shows_help(client, db, ny_physician):
    answers = valid_screening_answers(phq9=phq9_answers(14, item9=1))
    del answers["medical"]
    r = submit(client, answers)
    assert r.status_code == 422 and "answers.medical" in error_of(r)["fields"]
    assert "988" in error_of(r)["message"] and "741741" in error_of(r)["message"]
    assert _count(db, Assessment) == 0 and _count(db, ClinicalAlert) == 0
    del answers["phq9"]
    assert "988" not in error_of(submit(client, answers))["message"]


def test_the_screening_rate_limit_still_points_to_help(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ASSESSMENT_RATE_LIMIT", "1 per hour")
    submit(client)
    r = submit(client)
    assert r.status_code == 429 and "988" in error_of(r)["message"]


def test_a_crisis_result_tells_the_person_about_safety_only(client, auth, ny_physician):
    answers = valid_screening_answers(phq9=phq9_answers(14, item9=1), medical={"current_medications": ["maoi"]})
    body = submit(client, answers).get_json()
    assert [r["rule"] for r in body["reasons"]] == ["crisis.phq9_item9"]
    auth.login(ny_physician)
    seen = client.get(f"/api/v1/assessments/{body['id']}").get_json()
    assert {"crisis.phq9_item9", "review.interacting_medication"} <= {r["rule"] for r in seen["reasons"]}


def test_thoughts_of_suicide_short_of_a_crisis_show_the_resources(client, ny_physician):
    body = submit(client, valid_screening_answers(cssrs={"q1": True, "q2": False, "q6": False})).get_json()
    assert body["outcome"] == "needs_review" and body["scores"]["cssrs_risk"] == "low"
    assert any("988" in x["how"] for x in body["crisis_resources"])
    assert "988" in body["next_steps"][0]


@pytest.mark.parametrize("utc_moment, outcome", [
    ("2026-06-15T06:00:00+00:00", "not_eligible"),     # still 14 June in Honolulu: 17 there
    ("2026-06-15T11:00:00+00:00", "likely_candidate"),  # 15 June everywhere in the US: 18
])
def test_age_is_judged_on_the_last_us_calendar_to_turn(client, ny_physician, utc_moment, outcome):
    with time_machine.travel(datetime.fromisoformat(utc_moment), tick=False):
        body = submit(client, valid_screening_answers(medical={"date_of_birth": "2008-06-15"})).get_json()
    assert body["outcome"] == outcome


def test_sign_up_age_uses_the_persons_own_time_zone(client):
    from tests.accounts.test_auth import signup_body

    with time_machine.travel(datetime(2026, 6, 15, 6, tzinfo=timezone.utc), tick=False):  # 14 June, 11pm LA
        r = client.post("/api/v1/auth/signup", json=signup_body(date_of_birth="2008-06-15",
                                                                time_zone="America/Los_Angeles"))
        assert r.status_code == 422 and "date_of_birth" in error_of(r)["fields"]
        r = client.post("/api/v1/auth/signup", json=signup_body(date_of_birth="2008-06-15",
                                                                time_zone="America/New_York"))
        assert r.status_code == 201  # 2am on the 15th in New York


def test_clinical_reads_of_lists_are_audited(client, app, auth, db, ny_physician):
    patient = auth.as_role("patient")
    submit(client, valid_screening_answers(phq9=phq9_answers(12, item9=1)))
    client.get("/api/v1/me/assessments")
    token = _draft(client, {"phq9": phq9_answers(12)}).get_json()["token"]
    client.post("/api/v1/assessments/drafts/resume", json={"token": token})
    auth.logout()
    auth.login(ny_physician)
    client.get("/api/v1/reviews")
    client.get("/api/v1/alerts")
    reads = db.session.execute(select(AuditEvent.actor_id, AuditEvent.resource_type).where(
        AuditEvent.action == "read", AuditEvent.patient_id == patient.id)).all()
    assert set(reads) == {(patient.id, "assessments"), (patient.id, "assessment_draft"),
                          (ny_physician.id, "review_queue_item"), (ny_physician.id, "clinical_alert")}


def test_replying_to_someone_elses_review_is_refused_and_recorded(client, auth, db, ny_physician):
    auth.as_role("patient")
    assessment_id = submit(client).get_json()["id"]
    auth.logout()
    intruder = auth.as_role("patient")
    r = client.post(f"/api/v1/assessments/{assessment_id}/reply", json={"message": "hello"})
    assert r.status_code == 404
    assert _count(db, AuditEvent, AuditEvent.action == "denied", AuditEvent.actor_id == intruder.id) == 1


def test_expired_drafts_and_claim_tokens_stop_working_and_are_purged(client, app, runner, db, ny_physician):
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        draft_token = _draft(client, {"phq9": phq9_answers(12)}).get_json()["token"]
        claim_token = submit(client).get_json()["claim_token"]
        traveller.shift(timedelta(days=app.config["ASSESSMENT_DRAFT_TTL_DAYS"], seconds=1))
        r = client.post("/api/v1/assessments/drafts/resume", json={"token": draft_token})
        assert r.status_code == 422 and error_of(r)["code"] == "invalid_token"
        from tests.accounts.test_auth import signup_body

        r = client.post("/api/v1/auth/signup", json=signup_body(assessment_claim_token=claim_token))
        assert r.status_code == 422 and "assessment_claim_token" in error_of(r)["fields"]
        result = runner.invoke(args=["purge-drafts"])
        assert "Deleted 1" in result.output
    assert _count(db, Assessment) == 1  # the submitted screening stays: it is a clinical record


def test_alerts_list_newest_first_and_pages(client, auth, db, ny_physician):
    for _ in range(3):
        submit(client, valid_screening_answers(phq9=phq9_answers(12, item9=1)))
    auth.login(ny_physician)
    page = client.get("/api/v1/alerts?limit=2").get_json()
    ids = [a["id"] for a in page["items"]]
    assert ids == sorted(ids, reverse=True) and page["next_before_id"] == ids[-1]
    rest = client.get(f"/api/v1/alerts?limit=2&before_id={page['next_before_id']}").get_json()
    assert len(rest["items"]) == 1 and rest["items"][0]["id"] < ids[-1] and rest["next_before_id"] is None


def test_sla_share_counts_only_reviews_whose_outcome_is_known(client, app, auth, ny_physician):
    start = now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        early = submit(client).get_json()["id"]
        traveller.shift(timedelta(hours=30))
        submit(client)  # open, still inside its 24 hours
        auth.login(ny_physician)
        client.post(f"/api/v1/reviews/{early}/decision", json={"decision": "approve"})
        auth.logout()
        auth.as_role("admin")
        figures = client.get("/api/v1/reviews/sla").get_json()
    assert figures["submitted"] == 2 and figures["reviewed"] == 1 and figures["reviewed_within_sla"] == 0
    assert figures["share_reviewed_within_sla"] == 0.0 and figures["open"] == 1 and figures["open_overdue"] == 0


@pytest.mark.parametrize("query", [{"since": "0001-01-01T00:00:00Z"}, {"until": "9999-12-31T23:59:59-12:00"},
                                   {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}])
def test_sla_window_is_bounded(client, auth, query):
    auth.as_role("ops")
    r = client.get("/api/v1/reviews/sla", query_string=query)
    assert r.status_code == 422, r.get_json()


def test_ids_beyond_the_column_range_are_404_or_422(app, client, auth):
    from telehealth.api import route_specs

    auth.as_role("admin")
    huge = str(2**31)
    for _, method, rule, _ in route_specs(app):
        if "<int:" in rule.rule:
            url = rule.rule
            for arg in rule.arguments:
                url = url.replace(f"<int:{arg}>", huge).replace(f"<us_state:{arg}>", "NY")
            assert client.open(url, method=method.upper(), json={}).status_code in (404, 405), url
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": 2**31, "staff_id": 1})
    assert r.status_code == 422 and "patient_id" in error_of(r)["fields"]
    r = client.get(f"/api/v1/admin/audit?patient_id={2**40}")
    assert r.status_code == 422


def test_nul_characters_are_refused_not_stored(client, db):
    from tests.accounts.test_auth import signup_body

    r = client.post("/api/v1/auth/login", json={"email": "a\u0000@example.org", "password": "whatever!!"})
    assert r.status_code == 422 and "email" in error_of(r)["fields"]
    r = client.post("/api/v1/auth/signup", json=signup_body(legal_first_name="Ri\u0000ley"))
    assert r.status_code == 422 and "legal_first_name" in error_of(r)["fields"]


def test_physicians_join_care_teams_only_where_licensed(client, auth, create_user):
    auth.as_role("admin")
    patient = create_user("patient", states=("TX",))
    ny_only = create_user("physician", states=["NY"])
    r = client.post("/api/v1/admin/care-assignments", json={"patient_id": patient.id, "staff_id": ny_only.id})
    assert r.status_code == 422 and "staff_id" in error_of(r)["fields"]
    texan = create_user("physician", states=["TX"])
    assert client.post("/api/v1/admin/care-assignments",
                       json={"patient_id": patient.id, "staff_id": texan.id}).status_code == 201


def test_database_errors_are_logged_without_their_values(database_url, db):
    broken = make_test_app(database_url, WTF_CSRF_ENABLED=False)  # a bare form POST to a test route

    @broken.post("/boom")
    def boom():
        db.session.execute(text("INSERT INTO outbox_mail (to_address, subject, body, created_at, kind) "
                                "VALUES (:to, NULL, 'x', :at, 'k')"), {"to": "phi-secret@example.org", "at": now()})
        return "unreachable"

    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "_telehealth", False))
    stream, handler.stream = handler.stream, io.StringIO()
    try:
        with broken.app_context():
            r = broken.test_client().post("/boom")
        out = handler.stream.getvalue()
    finally:
        handler.stream = stream
    assert r.status_code == 500
    assert "phi-secret" not in out
    assert any(json.loads(line).get("exception") == "IntegrityError" for line in out.splitlines() if line.strip())


@pytest.mark.parametrize("value", [3.0, 3.5, "3", True])
def test_a_non_integer_item_9_never_crashes_nor_hides_the_crisis(client, auth, db, ny_physician, value):
    """3.0 is the whole number 3 (normalized, scored, crisis path); 3.5, "3" and true are refused
    with a field error, and the refusal still names 988 because the raw answer shows a crisis."""
    whole = isinstance(value, float) and value.is_integer()
    phq9 = {**phq9_answers(14, item9=3), "q9": value}
    endpoints = (
        ("draft", lambda: _draft(client, {"phq9": phq9})),
        ("screening", lambda: submit(client, valid_screening_answers(phq9=phq9))),
        ("retake", lambda: client.post("/api/v1/me/measures",
                                       json={"instrument": "phq9", "version": 1, "answers": {"phq9": phq9}})),
    )
    auth.login(auth.as_role("patient"))
    for name, call in endpoints:
        alerts_before = _count(db, ClinicalAlert)
        r = call()
        assert r.status_code < 500, (name, r.get_json())
        if whole:
            assert r.status_code in (200, 201), (name, r.get_json())
            body = r.get_json()
            assert body.get("crisis") is True or body.get("outcome") == "crisis", (name, body)
            assert _count(db, ClinicalAlert) == alerts_before + 1, name
        else:
            assert r.status_code == 422, (name, r.get_json())
            assert "answers.phq9.q9" in error_of(r)["fields"], name
            assert "988" in error_of(r)["message"], name


def test_a_decimal_whole_answer_is_stored_and_scored_as_an_integer(client, auth, db, ny_physician):
    auth.login(auth.as_role("patient"))
    answers = {**phq9_answers(14), "q1": 2.0}
    r = client.post("/api/v1/me/measures", json={"instrument": "phq9", "version": 1, "answers": {"phq9": answers}})
    assert r.status_code == 201
    assert r.get_json()["measure"]["total"] == sum(phq9_answers(14).values()) - phq9_answers(14)["q1"] + 2

"""The physicians' review pages with Flask's test client: the queue (urgent first then oldest, paged,
names, times in the physician's zone, time left), one screening (answers by section in the
questionnaire's words, scores with bands, every eligibility reason, earlier screenings), the three
decisions with the API's refusals, a decision someone else took first refused in words, who may
open the pages, the audit of every opening, and no query per row."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import Assessment, AuditEvent
from telehealth.models.screening.assessments import Decision
from telehealth.routes.screening import review_pages
from telehealth.services.screening import assessments, reviews
from tests.conftest import PASSWORD
from tests.pages_support import BROWSER, csrf_token, submit, text_of
from tests.screening_data import phq9_answers, valid_screening_answers


def _sign_in(client, user):
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()


def _screen(patient, answers=None) -> Assessment:
    assessment, _ = assessments.submit(patient, "screening", 1, answers or valid_screening_answers())
    return assessment


def _urgent_answers():
    return valid_screening_answers(phq9=phq9_answers(20, item9=1))


def _needs_review_answers():
    return valid_screening_answers(
        treatment_history={"antidepressant_trials": [{"name": "sertraline", "weeks": 8, "adequate_dose": True}],
                           "therapy_tried": False},
        medical={"bladder_symptoms": True, "current_medications": ["benzodiazepine"]})


@pytest.fixture
def doctor(create_user):
    """A physician in Chicago licensed in NY (so the NY patients are serviced, not waitlisted)."""
    return create_user("physician", states=["NY"], display_name="Dr. Ada Doe", time_zone="America/Chicago")


def _order_of(html: str, names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: html.index(n))


def _decide(client, assessment_id, data, seen=None):
    url = f"/reviews/{assessment_id}"
    body = dict(data)
    if seen is not None:
        body["seen_decisions"] = str(seen)
    return submit(client, f"{url}/decision", body, token_from=url, headers=BROWSER)


# --------------------------------------------------------------------------- the queue


def test_the_queue_is_urgent_first_then_oldest_with_names_zone_and_time_left(client, db, create_user, doctor):
    first_p, second_p, urgent_p = (create_user("patient", legal_first_name=n, legal_last_name="Case")
                                   for n in ("Oldest", "Newer", "Urgent"))
    start = now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        first = _screen(first_p)
        traveller.shift(timedelta(hours=1))
        _screen(second_p)
        traveller.shift(timedelta(hours=1))
        _screen(urgent_p, _urgent_answers())
        traveller.shift(timedelta(hours=22, minutes=30))
        _sign_in(client, doctor)
        r = client.get("/reviews", headers=BROWSER)
    assert r.status_code == 200
    html, text = r.get_data(as_text=True), text_of(r)
    assert _order_of(html, ["Oldest Case", "Newer Case", "Urgent Case"]) == ["Urgent Case", "Oldest Case", "Newer Case"]
    assert "3 screenings are waiting" in text
    assert "overdue by 30 min" in text and "30 min left" in text  # 24 h SLA: the first is late, the second not
    assert "Urgent" in text and "Crisis: safety first" in text
    # the submitted time in the physician's zone (Chicago), and the countdown's data for the script
    assert re.search(r"\d{1,2}:\d\d [AP]M C[SD]T", text)
    due = first.review_due_at.isoformat()
    assert f'datetime="{due}"' in html and 'data-sla-seconds="-1800"' in html
    assert 'data-shortcut-list' in html and html.count("data-shortcut-row") == 3 and "Keyboard shortcuts" in text
    assert "sla_countdown.js" in html and "shortcuts.js" in html


def test_the_queue_is_paged(client, db, create_user, doctor, monkeypatch):
    monkeypatch.setattr(review_pages, "PER_PAGE", 2)
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        for name in ("Alpha", "Bravo", "Charlie"):
            _screen(create_user("patient", legal_first_name=name, legal_last_name="Pager"))
            traveller.shift(timedelta(minutes=10))
    _sign_in(client, doctor)
    one = text_of(client.get("/reviews", headers=BROWSER))
    assert "Alpha Pager" in one and "Bravo Pager" in one and "Charlie Pager" not in one
    assert "Showing 1 to 2 of 3 (page 1 of 2)" in one and "Next page" in one and "Previous page" not in one
    two = text_of(client.get("/reviews?page=2", headers=BROWSER))
    assert "Charlie Pager" in two and "Alpha Pager" not in two and "Previous page" in two
    # a page number out of range or not a number shows a real page, never an error
    assert "Charlie Pager" in text_of(client.get("/reviews?page=99", headers=BROWSER))
    assert "Alpha Pager" in text_of(client.get("/reviews?page=abc", headers=BROWSER))


def test_an_empty_queue_says_so(client, db, doctor):
    _sign_in(client, doctor)
    assert "The queue is empty." in text_of(client.get("/reviews", headers=BROWSER))


def test_the_queue_adds_no_query_per_row(client, db, create_user, doctor, count_queries):
    def statements(count: int) -> int:
        for assessment in db.session.scalars(select(Assessment)):
            db.session.delete(assessment)
        db.session.commit()
        for _ in range(count):
            _screen(create_user("patient"))
        with count_queries() as counter:
            r = client.get("/reviews", headers=BROWSER)
        assert r.status_code == 200 and r.get_data(as_text=True).count("data-shortcut-row") == count
        return counter.count

    _sign_in(client, doctor)
    assert statements(2) == statements(10)


# --------------------------------------------------------------------------- one screening


def test_the_review_page_shows_answers_by_section_scores_reasons_and_history(client, db, create_user, doctor):
    patient = create_user("patient", legal_first_name="Riley", legal_last_name="Review")
    earlier_at = now() - timedelta(days=90)
    with time_machine.travel(earlier_at, tick=False):
        earlier = _screen(patient, valid_screening_answers(phq9=phq9_answers(21)))
        reviews.decide(create_user("physician", display_name="Dr. Old Reviewer"), earlier.id, Decision.DECLINE,
                       message="Not now.", note=None)
    current = _screen(patient, _needs_review_answers())
    _sign_in(client, doctor)
    r = client.get(f"/reviews/{current.id}", headers=BROWSER)
    assert r.status_code == 200
    text = text_of(r)
    assert "Screening of Riley Review" in text and "Needs a physician's judgement" in text
    # the questionnaire's own sections and questions, the answers in its words
    for title in ("Treatment history", "Patient Health Questionnaire (PHQ-9)",
                  "Generalized Anxiety Disorder scale (GAD-7)", "Thoughts of suicide", "Medical screen"):
        assert title in text
    assert "Little interest or pleasure in doing things" in text and "Nearly every day" in text
    assert "Do you have bladder or urinary problems" in text
    assert "A benzodiazepine (such as alprazolam, clonazepam or lorazepam)" in text
    assert "sertraline" in text and "122/78 mmHg" in text and "New York (NY)" in text
    assert "Not asked (did not apply)" in text  # the mood stabilizer question, asked only after mania
    # scores with their bands and ranges
    assert "16 of 27" in text and "moderately severe (15–19)" in text
    assert "12 of 21" in text and "moderate (10–14)" in text and "No risk reported" in text
    # every eligibility reason, in words
    assert len(current.reasons) >= 3
    for reason in current.reasons:
        assert reason["message"] in text
    # the earlier screening: date, scores, decision and who took it
    assert "Earlier screenings" in text and "Declined" in text and "Dr. Old Reviewer" in text
    assert f"{earlier.submitted_at:%b} {earlier.submitted_at.day}, {earlier.submitted_at.year}" in text
    assert "21 severe" in text
    # the decision forms and the keyboard shortcuts
    for button in ("Approve for consult", "Decline", "Send the question"):
        assert button in text
    assert 'data-shortcut="a"' in r.get_data(as_text=True) and "Keyboard shortcuts" in text


def test_opening_a_screening_is_an_audited_read(client, db, create_user, doctor):
    patient = create_user("patient")
    with time_machine.travel(now() - timedelta(days=30), tick=False):
        _screen(patient)
    current = _screen(patient)
    _sign_in(client, doctor)
    assert client.get(f"/reviews/{current.id}", headers=BROWSER).status_code == 200
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == doctor.id,
                                                         AuditEvent.action == "read")).all()
    kinds = {(e.resource_type, e.resource_id, e.patient_id) for e in events}
    assert ("assessment", str(current.id), patient.id) in kinds
    assert ("assessment_history", str(current.id), patient.id) in kinds


def test_the_review_page_adds_no_query_per_earlier_screening(client, db, create_user, doctor, count_queries):
    def statements(earlier: int) -> int:
        patient = create_user("patient")
        for days in range(earlier, 0, -1):
            with time_machine.travel(now() - timedelta(days=days * 10), tick=False):
                a = _screen(patient)
                reviews.decide(doctor, a.id, Decision.APPROVE, message=None, note=None)
        current = _screen(patient)
        with count_queries() as counter:
            assert client.get(f"/reviews/{current.id}", headers=BROWSER).status_code == 200
        return counter.count

    _sign_in(client, doctor)
    assert statements(1) == statements(5)


def test_an_unlinked_screening_reads_as_such(client, db, doctor):
    current, _ = assessments.submit(None, "screening", 1, valid_screening_answers())
    _sign_in(client, doctor)
    assert "Not linked to an account" in text_of(client.get("/reviews", headers=BROWSER))
    text = text_of(client.get(f"/reviews/{current.id}", headers=BROWSER))
    assert "a person not linked to an account yet" in text and "This is the patient's first screening." in text


# --------------------------------------------------------------------------- deciding


def test_approving_goes_on_to_the_next_screening(client, db, create_user, doctor):
    first = _screen(create_user("patient", legal_first_name="Ann", legal_last_name="First"))
    second = _screen(create_user("patient", legal_first_name="Ben", legal_last_name="Second"))
    _sign_in(client, doctor)
    r = _decide(client, first.id, {"decision": "approve", "note": "Two adequate trials."}, seen=0)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/reviews/{second.id}#main")
    page = client.get(r.headers["Location"], headers=BROWSER)
    assert "Approved for consult: Ann First can now book a consultation." in text_of(page)
    db.session.expire_all()
    stored = db.session.get(Assessment, first.id)
    assert stored.review_status.value == "approved" and stored.reviewer_id == doctor.id
    assert stored.decisions[-1].private_note == "Two adequate trials."
    # the last one: back to the queue, which says it is empty
    r = _decide(client, second.id, {"decision": "approve"}, seen=0)
    assert r.status_code == 302 and r.headers["Location"].endswith("/reviews#main")
    assert "The queue is empty." in text_of(client.get("/reviews", headers=BROWSER))


def test_a_decline_needs_a_reason_and_nothing_is_written_without_one(client, db, create_user, doctor):
    current = _screen(create_user("patient"))
    _sign_in(client, doctor)
    r = _decide(client, current.id, {"decision": "decline", "message_to_patient": "  "}, seen=0)
    assert r.status_code == 422
    text = text_of(r)
    assert "Tell the patient why." in text and "Required for this decision." in text  # the API's words
    html = r.get_data(as_text=True)
    assert 'id="decline-message_to_patient"' in html and 'aria-invalid="true"' in html
    db.session.expire_all()
    assert db.session.get(Assessment, current.id).review_status.value == "pending"
    r = _decide(client, current.id, {"decision": "decline", "message_to_patient": "Please see your own psychiatrist."},
                seen=0)
    assert r.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Assessment, current.id)
    assert stored.review_status.value == "declined"
    assert stored.decisions[-1].message_to_patient == "Please see your own psychiatrist."


def test_a_message_too_long_is_refused_with_the_apis_message(client, db, create_user, doctor):
    current = _screen(create_user("patient"))
    _sign_in(client, doctor)
    r = _decide(client, current.id, {"decision": "request_info", "message_to_patient": "x" * 2001}, seen=0)
    assert r.status_code == 422 and "at most 2000 characters" in text_of(r)
    r = _decide(client, current.id, {"decision": "dismiss"}, seen=0)
    assert r.status_code == 422 and "Decision" in text_of(r)


def test_asking_a_question_keeps_the_screening_in_the_queue(client, db, create_user, doctor):
    current = _screen(create_user("patient", legal_first_name="Cam", legal_last_name="Ask"))
    _sign_in(client, doctor)
    r = _decide(client, current.id, {"decision": "request_info",
                                     "message_to_patient": "Which medicines do you take every day?"}, seen=0)
    assert r.status_code == 302
    assert "Question sent: Cam Ask is told to sign in and answer it." in text_of(
        client.get(r.headers["Location"], headers=BROWSER))
    queue = text_of(client.get("/reviews", headers=BROWSER))
    assert "Cam Ask" in queue and "Waiting for the patient's answer" in queue
    page = text_of(client.get(f"/reviews/{current.id}", headers=BROWSER))
    assert "Asked the patient a question" in page and "Which medicines do you take every day?" in page
    # asking again while the answer is awaited is refused in words
    r = _decide(client, current.id, {"decision": "request_info", "message_to_patient": "And again?"}, seen=1)
    assert r.status_code == 409
    assert "You already asked the patient a question and their answer is awaited" in text_of(r)


def test_a_screening_someone_else_decided_is_refused_in_words(client, db, create_user, doctor):
    other = create_user("physician", display_name="Dr. Quick Other")
    current = _screen(create_user("patient"))
    _sign_in(client, doctor)
    token = csrf_token(client, f"/reviews/{current.id}")  # the page is open...
    reviews.decide(other, current.id, Decision.APPROVE, message=None, note=None)  # ...someone else approves
    r = client.post(f"/reviews/{current.id}/decision", data={"decision": "decline", "message_to_patient": "No.",
                                                            "seen_decisions": "0", "csrf_token": token},
                    headers=BROWSER)
    assert r.status_code == 409
    text = text_of(r)
    assert "Your decision was not recorded" in text
    assert "Dr. Quick Other approved this screening since you opened this page" in text
    assert "nothing left to decide" in text and "Read the screening again" not in text  # no longer open
    db.session.expire_all()
    stored = db.session.get(Assessment, current.id)
    assert stored.review_status.value == "approved" and len(stored.decisions) == 1
    # without the count (the API's way), the state machine refuses it in the same kind of words
    r = _decide(client, current.id, {"decision": "approve"})
    assert r.status_code == 409 and "Dr. Quick Other already approved this screening" in text_of(r)


def test_a_question_asked_meanwhile_stops_an_approval_from_another_tab(client, db, create_user, doctor):
    other = create_user("physician", display_name="Dr. Ask First")
    current = _screen(create_user("patient"))
    _sign_in(client, doctor)
    reviews.decide(other, current.id, Decision.REQUEST_INFO, message="Any heart trouble?", note=None)
    r = _decide(client, current.id, {"decision": "approve"}, seen=0)  # the page was read before the question
    assert r.status_code == 409
    text = text_of(r)
    assert "Dr. Ask First asked the patient a question since you opened this page" in text
    assert "Read the screening again" in text
    db.session.expire_all()
    assert db.session.get(Assessment, current.id).review_status.value == "info_requested"


# --------------------------------------------------------------------------- who may open the pages


@pytest.mark.parametrize("role", ["coach", "ops", "patient", "admin"])
def test_other_roles_are_refused_in_words(client, db, create_user, role):
    current = _screen(create_user("patient"))
    _sign_in(client, create_user(role))
    for path in ("/reviews", f"/reviews/{current.id}", "/reviews/next"):
        r = client.get(path, headers=BROWSER)
        assert r.status_code == 403 and "not part of your account" in text_of(r), path
    r = client.post(f"/reviews/{current.id}/decision",
                    data={"decision": "approve", "csrf_token": csrf_token(client, "/no-such-page")}, headers=BROWSER)
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Assessment, current.id).review_status.value == "pending"


def test_a_physician_may_not_open_a_screening_decided_by_someone_else_for_another_team(client, db, create_user,
                                                                                        doctor):
    current = _screen(create_user("patient"))
    reviews.decide(create_user("physician"), current.id, Decision.APPROVE, message=None, note=None)
    _sign_in(client, doctor)
    r = client.get(f"/reviews/{current.id}", headers=BROWSER)
    assert r.status_code in (403, 404) and "assessment" in text_of(r).lower()


def test_start_with_the_first_opens_the_top_of_the_queue(client, db, create_user, doctor):
    _screen(create_user("patient"))
    urgent = _screen(create_user("patient"), _urgent_answers())
    _sign_in(client, doctor)
    r = client.get("/reviews/next", headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/reviews/{urgent.id}")


def test_an_urgent_screening_says_so_first_with_its_crisis_findings(client, db, create_user, doctor):
    current = _screen(create_user("patient"), _urgent_answers())
    _sign_in(client, doctor)
    text = text_of(client.get(f"/reviews/{current.id}", headers=BROWSER))
    assert text.index("Urgent: this screening has crisis findings.") < text.index("Eligibility findings")
    assert "Crisis: safety first" in text and "Crisis" in text
    crisis = [r for r in current.reasons if r["outcome"] == "crisis"]
    assert crisis and all(r["message"] in text for r in crisis)
    # PHQ-9 item 9 as the patient answered it, with its points
    assert re.search(r"9\. Thoughts that you would be better off dead or of hurting yourself in some way "
                     r"(Several days|More than half the days|Nearly every day) [123]", text)

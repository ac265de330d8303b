"""The screening pages with Flask's test client: the landing page, the wizard (steps, back, save and
resume by link, refusals in words with nothing written), the result (every reason, the review SLA,
the claim token kept for sign-up), the crisis path (help first, nothing sold), progress and retakes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from telehealth.models import Assessment, ClinicalAlert, Measure
from telehealth.models.screening.assessments import AssessmentStatus
from telehealth.services.billing import catalog
from tests.pages_support import BROWSER, submit, text_of
from tests.screening_data import birth_date_for_age

SELLING = re.compile(r"\b(package|price|purchase|buy|checkout|payment|subscri\w*|discount)\b|\$\d", re.I)


@pytest.fixture
def ny_physician(create_user):
    return create_user("physician", states=["NY"])


def _rows(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def items(total: int, count: int, item9: int | None = None) -> dict[str, str]:
    """Form values q1..q<count> summing to `total` (item 9 fixed when given)."""
    values, left = {}, total - (item9 or 0)
    for i in range(1, count + 1):
        if item9 is not None and i == 9:
            values["q9"] = str(item9)
            continue
        values[f"q{i}"] = str(min(3, left))
        left -= min(3, left)
    return values


def step_forms(**overrides) -> list[dict[str, str]]:
    """The five pages of a likely candidate's screening, as a browser posts them."""
    pages = [
        {"antidepressant_trials.0.name": "sertraline", "antidepressant_trials.0.weeks": "8",
         "antidepressant_trials.0.adequate_dose": "true", "antidepressant_trials.1.name": "bupropion",
         "antidepressant_trials.1.weeks": "10", "antidepressant_trials.1.adequate_dose": "true",
         "antidepressant_trials.2.name": "", "antidepressant_trials.2.weeks": "", "therapy_tried": "true"},
        items(16, 9, item9=0),
        items(12, 7),
        {"q1": "false", "q2": "false", "q6": "false"},
        {"date_of_birth": birth_date_for_age(40), "state_of_residence": "NY", "pregnant_or_breastfeeding": "false",
         "psychosis_history": "false", "mania_or_bipolar_history": "false",
         "active_substance_use_disorder": "false", "hypertension": "none", "blood_pressure.systolic": "122",
         "blood_pressure.diastolic": "78", "vascular_history": "__none__", "raised_intracranial_pressure": "false",
         "heart_disease": "none", "liver_disease": "false", "bladder_symptoms": "false",
         "current_medications": "__none__", "other_medications": ""},
    ]
    for index, changes in overrides.items():
        pages[int(index.removeprefix("step"))].update(changes)
    return pages


def post_step(client, number: int, data: dict, action: str = "next"):
    return submit(client, f"/screening/step/{number}", {**data, "action": action}, headers=BROWSER,
                  token_from="/screening")


def run_wizard(client, pages, upto: int = 5):
    response = None
    for number, data in enumerate(pages[:upto], 1):
        response = post_step(client, number, data)
        assert response.status_code == 302, (number, text_of(response)[:2000])
    return response


def draft_of(db) -> Assessment:
    return db.session.scalars(select(Assessment).where(Assessment.status == AssessmentStatus.DRAFT)).one()


# --------------------------------------------------------------------------- landing


def test_landing_says_what_the_program_is_who_it_is_not_for_and_the_five_prices(client, db):
    catalog.seed_catalog()
    page = client.get("/", headers=BROWSER)
    assert page.status_code == 200
    words = text_of(page)
    assert "ketamine" in words and "depression" in words and "PTSD" in words
    for price in ("$199.00", "$249.00", "$149.00 a month", "$79.00", "$119.00"):
        assert price in words
    assert "No hidden fees" in words and "cancel any time" in words
    for exclusion in ("under 18", "pregnant", "psychosis or schizophrenia", "alcohol or drug use",
                      "180/100", "aneurysm", "pressure inside the skull", "heart disease that is not stable"):
        assert exclusion in words, exclusion
    assert 'href="/screening"' in page.get_data(as_text=True) and "Start the free screening" in words


def test_landing_shows_the_catalogs_price_not_a_copy(client, db, create_user):
    catalog.seed_catalog()
    catalog.update_product(create_user("admin"), "starter", {"price_cents": 20500})
    words = text_of(client.get("/", headers=BROWSER))
    assert "$205.00" in words and "$199.00" not in words


def test_staff_who_open_the_landing_page_stay_on_it(client, auth):
    auth.as_role("physician")
    assert client.get("/", headers=BROWSER).status_code == 200


# --------------------------------------------------------------------------- the wizard


def test_the_wizard_goes_one_section_a_page_to_a_likely_candidates_result(client, db, ny_physician):
    first = client.get("/screening/step/1", headers=BROWSER)
    html = first.get_data(as_text=True)
    assert "Step 1 of 5" in text_of(first) and '<progress max="5" value="1"' in html
    assert "<title>Screening: step 1 of 5" in html
    response = post_step(client, 1, step_forms()[0])
    assert response.headers["Location"].endswith("/screening/step/2")
    second = client.get("/screening/step/2", headers=BROWSER)
    assert "Step 2 of 5" in text_of(second) and "Over the last 2 weeks" in text_of(second)
    response = run_wizard(client, step_forms())
    assert response.headers["Location"].endswith("/screening/result")
    with client.session_transaction() as cookie:
        claim = cookie["screening_claim"]
        assert "screening_draft" not in cookie
    stored = db.session.scalars(select(Assessment)).one()
    assert stored.status is AssessmentStatus.SUBMITTED and stored.outcome == "likely_candidate"
    assert stored.answers["treatment_history"]["antidepressant_trials"][1] == {
        "name": "bupropion", "weeks": 10, "adequate_dose": True}
    assert stored.answers["medical"]["vascular_history"] == [] and stored.patient_id is None
    result = client.get("/screening/result", headers=BROWSER)
    words = text_of(result)
    assert "You may be a good fit for the program" in words
    assert "16 out of 27: moderately severe" in words and "12 out of 21: moderate" in words
    assert "within 24 hours" in words and re.search(r"About 2[34] hours left", words)
    assert claim not in result.get_data(as_text=True)  # the claim token stays in the session
    cssrs = client.get("/screening/step/4", headers=BROWSER)
    assert cssrs.status_code == 302  # the draft is gone: a new screening starts at step 1


def test_the_cssrs_page_shows_each_questions_help_text(client, db):
    run_wizard(client, step_forms(), upto=3)
    words = text_of(client.get("/screening/step/4", headers=BROWSER))
    assert "Step 4 of 5" in words and "Thoughts of suicide" in words
    assert "For example: “I thought about taking an overdose" in words
    assert "Answer this only if you answered “Yes” to question 2." in words


def test_every_reason_is_shown_in_plain_words(client, db, ny_physician):
    pages = step_forms(step4={"pregnant_or_breastfeeding": "true", "liver_disease": "true",
                              "current_medications": ["benzodiazepine"]})
    run_wizard(client, pages)
    words = text_of(client.get("/screening/result", headers=BROWSER))
    assert "This treatment is not right for you now" in words
    stored = db.session.scalars(select(Assessment)).one()
    assert len(stored.reasons) == 3
    for reason in stored.reasons:
        assert reason["message"] in words
    assert "Not safe or suitable now:" in words and "A physician will check:" in words


def test_back_keeps_the_answers_of_this_page_and_the_ones_before(client, db):
    run_wizard(client, step_forms(), upto=1)
    half = {"q1": "2", "q2": "3"}
    response = post_step(client, 2, half, action="back")
    assert response.headers["Location"].endswith("/screening/step/1")
    first = client.get("/screening/step/1", headers=BROWSER).get_data(as_text=True)
    assert 'name="antidepressant_trials.1.name" value="bupropion"' in first
    assert re.search(r'name="therapy_tried" value="true"\s+checked', first)
    second = client.get("/screening/step/2", headers=BROWSER).get_data(as_text=True)
    assert re.search(r'name="q1" value="2"\s+checked', second) and re.search(r'name="q2" value="3"\s+checked', second)
    assert draft_of(db).answers["phq9"] == {"q1": 2, "q2": 3}


def test_a_page_with_a_missing_answer_is_refused_in_words_and_nothing_is_written(client, db):
    data = step_forms()[0]
    del data["therapy_tried"]
    response = post_step(client, 1, data)
    assert response.status_code == 422
    words = text_of(response)
    assert "Question 2: This question is required." in words
    assert 'value="sertraline"' in response.get_data(as_text=True)  # what was typed is kept on the page
    assert _rows(db, Assessment) == 0
    run_wizard(client, step_forms(), upto=1)
    missing = step_forms()[1]
    del missing["q5"]
    response = post_step(client, 2, missing)
    assert response.status_code == 422 and "Question 5: This question is required." in text_of(response)
    assert "phq9" not in draft_of(db).answers


def test_a_bad_answer_is_refused_with_the_services_words(client, db):
    data = step_forms(step0={"antidepressant_trials.0.weeks": "lots"})[0]
    response = post_step(client, 1, data)
    assert response.status_code == 422
    assert "Question 1, medication 1: Must be a whole number." in text_of(response)
    assert 'href="#f-antidepressant-trials-0-weeks"' in response.get_data(as_text=True)
    run_wizard(client, step_forms(), upto=4)
    medical = step_forms(step4={"blood_pressure.systolic": "80", "blood_pressure.diastolic": "120",
                                "vascular_history": ["__none__", "arteriovenous_malformation"]})[4]
    response = post_step(client, 5, medical)
    assert response.status_code == 422
    words = text_of(response)
    assert "untick one of them" in words
    assert _rows(db, Assessment, Assessment.status == AssessmentStatus.SUBMITTED) == 0
    assert "medical" not in draft_of(db).answers
    medical = step_forms(step4={"blood_pressure.systolic": "80", "blood_pressure.diastolic": "120"})[4]
    words = text_of(post_step(client, 5, medical))
    assert "higher than the diastolic" in words
    assert _rows(db, Assessment, Assessment.status == AssessmentStatus.SUBMITTED) == 0


def test_add_another_medication_keeps_what_was_typed(client, db):
    data = {"antidepressant_trials.0.name": "fluoxetine", "antidepressant_trials.0.weeks": "12",
            "antidepressant_trials.1.name": "citalopram"}
    response = post_step(client, 1, data, action="add_row")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Medication 3" in text_of(response)
    assert 'value="fluoxetine"' in html and 'value="citalopram"' in html
    assert _rows(db, Assessment) == 0


def test_save_and_resume_by_a_link_with_no_answers_in_it(client, app, db):
    run_wizard(client, step_forms(), upto=1)
    response = post_step(client, 2, {"q1": "1"}, action="save")
    assert response.headers["Location"].endswith("/screening/saved")
    saved = client.get("/screening/saved", headers=BROWSER)
    link = re.search(r'id="resume-link"[^>]*value="([^"]+)"', saved.get_data(as_text=True)).group(1)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert re.fullmatch(r"screening/resume/[A-Za-z0-9_\-]{20,}", path), path
    assert "sertraline" not in link
    other_browser = app.test_client()
    response = other_browser.get("/" + path, headers=BROWSER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/screening/step/2")
    page = other_browser.get("/screening/step/2", headers=BROWSER)
    assert "Welcome back" in text_of(page)
    assert re.search(r'name="q1" value="1"\s+checked', page.get_data(as_text=True))
    first = other_browser.get("/screening/step/1", headers=BROWSER).get_data(as_text=True)
    assert 'value="sertraline"' in first
    response = app.test_client().get("/screening/resume/not-a-real-token-at-all", headers=BROWSER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/screening")


def test_a_resume_link_of_a_sent_screening_starts_again_in_words(client, app, db, ny_physician):
    run_wizard(client, step_forms(), upto=1)
    post_step(client, 2, {}, action="save")
    link = re.search(r'value="(http[^"]+/screening/resume/[^"]+)"',
                     client.get("/screening/saved", headers=BROWSER).get_data(as_text=True)).group(1)
    for number, data in enumerate(step_forms()[1:], 2):
        post_step(client, number, data)
    other = app.test_client()
    response = other.get(link.split("localhost", 1)[1], headers=BROWSER, follow_redirects=True)
    assert "can no longer open a saved screening" in text_of(response)


def test_a_step_cannot_be_skipped_to(client, db):
    assert client.get("/screening/step/4", headers=BROWSER).headers["Location"].endswith("/screening/step/1")
    run_wizard(client, step_forms(), upto=2)
    assert client.get("/screening/step/5", headers=BROWSER).headers["Location"].endswith("/screening/step/3")
    assert client.get("/screening/step/9", headers=BROWSER).headers["Location"].endswith("/screening/step/1")


def test_a_signed_in_patient_s_screening_is_theirs_and_its_result_shows(client, db, auth, ny_physician):
    patient = auth.as_role("patient")
    run_wizard(client, step_forms())
    stored = db.session.scalars(select(Assessment)).one()
    assert stored.patient_id == patient.id
    with client.session_transaction() as cookie:
        assert "screening_claim" not in cookie and cookie["screening_result"] == stored.id
    words = text_of(client.get("/screening/result", headers=BROWSER))
    assert "You may be a good fit" in words and "Create your account" not in words
    assert _rows(db, Measure, Measure.patient_id == patient.id) == 2


def test_the_wizards_rate_limit_still_names_988(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "ASSESSMENT_RATE_LIMIT", "1 per hour")
    post_step(client, 1, step_forms()[0], action="save")
    refused = post_step(client, 1, step_forms()[0], action="save")
    assert refused.status_code == 429
    assert "If you are thinking about ending your life, call or text 988 now" in text_of(refused)


def test_no_result_in_this_browser_sends_to_the_screening(client, db):
    response = client.get("/screening/result", headers=BROWSER, follow_redirects=True)
    assert "There is no screening result to show" in text_of(response)


# --------------------------------------------------------------------------- crisis


def test_a_crisis_answer_shows_help_at_once_and_the_result_sells_nothing(client, db, ny_physician):
    catalog.seed_catalog()
    pages = step_forms(step1={"q9": "2", "q8": "1"})
    run_wizard(client, pages, upto=2)
    third = text_of(client.get("/screening/step/3", headers=BROWSER))
    assert "You can get help right now" in third and "Call 988" in third
    assert _rows(db, ClinicalAlert) == 1  # the draft's crisis answers alerted the on-call physician
    run_wizard(client, pages)
    result = client.get("/screening/result", headers=BROWSER)
    words = text_of(result)
    main = words.split("Please reach out for support now", 1)[1]
    assert main.index("Call 988") < main.index("What happens now") < main.index("What you told us")
    assert "Text HOME to 741741" in main and "Call 911" in main
    assert "has been alerted" in main
    assert not SELLING.search(main), SELLING.search(main)
    assert "out of 27" not in main and "Create your account" not in main
    assert _rows(db, ClinicalAlert) == 1  # one alert per screening


def test_a_refused_page_with_a_crisis_answer_still_shows_help_first(client, db):
    run_wizard(client, step_forms(), upto=1)
    data = items(10, 9, item9=3)
    del data["q1"]
    response = post_step(client, 2, data)
    assert response.status_code == 422
    words = text_of(response)
    assert words.index("You can get help right now") < words.index("Question 1: This question is required.")
    assert "phq9" not in draft_of(db).answers and _rows(db, ClinicalAlert) == 0


# --------------------------------------------------------------------------- progress and retakes


def test_progress_needs_a_signed_in_patient(client, auth):
    response = client.get("/progress", headers=BROWSER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login?next=/progress")
    assert client.get("/measures/retake", headers=BROWSER).headers["Location"].endswith(
        "/login?next=/measures/retake")
    auth.as_role("coach")
    assert client.get("/progress", headers=BROWSER).status_code == 403
    assert client.get("/measures/retake", headers=BROWSER).status_code == 403


def test_progress_draws_the_scores_as_an_accessible_chart_and_a_table(client, db, auth, ny_physician):
    patient = auth.as_role("patient")
    empty = text_of(client.get("/progress", headers=BROWSER))
    assert "You have no scores yet" in empty
    run_wizard(client, step_forms())
    submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **items(8, 9, item9=0)},
           headers=BROWSER)
    page = client.get("/progress", headers=BROWSER)
    html, words = page.get_data(as_text=True), text_of(page)
    assert html.count('role="img"') == 2 and html.count("<title id=") == 2 and html.count("<desc id=") == 2
    assert "2 scores, from 16 (moderately severe)" in words and "to 8 (mild)" in words
    assert "Moderately severe" in words and "Minimal" in words  # the bands, named
    assert "Date taken" in words and "Score" in words
    assert "16 of 27" in words and "8 of 27" in words and "12 of 21" in words  # the table
    assert _rows(db, Measure, Measure.patient_id == patient.id) == 3


def test_a_retake_is_refused_in_words_with_nothing_written(client, db, auth):
    auth.as_role("patient")
    page = client.get("/measures/retake", headers=BROWSER)
    assert "Part 1 of 2" in text_of(page) and "Little interest or pleasure" in text_of(page)
    data = items(8, 9, item9=0)
    del data["q4"]
    response = submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **data}, headers=BROWSER)
    assert response.status_code == 422 and "Question 4: This question is required." in text_of(response)
    data["q4"] = "7"
    response = submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **data}, headers=BROWSER)
    assert response.status_code == 422 and "Question 4: Must be one of: 0, 1, 2, 3." in text_of(response)
    assert _rows(db, Measure) == 0


def test_a_retake_saves_phq9_then_gad7(client, db, auth):
    patient = auth.as_role("patient")
    response = submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **items(8, 9, item9=0)},
                      headers=BROWSER)
    assert response.headers["Location"].endswith("/measures/retake?instrument=gad7")
    page = client.get("/measures/retake?instrument=gad7", headers=BROWSER)
    assert "Part 2 of 2" in text_of(page) and "Thank you" in text_of(page)
    response = submit(client, "/measures/retake?instrument=gad7", {"instrument": "gad7", "version": "1",
                                                                   **items(5, 7)}, headers=BROWSER)
    assert response.headers["Location"].endswith("/progress")
    stored = db.session.scalars(select(Measure).where(Measure.patient_id == patient.id).order_by(Measure.id)).all()
    assert [(m.instrument, m.total, m.source) for m in stored] == [("phq9", 8, "retake"), ("gad7", 5, "retake")]


def test_a_retake_with_thoughts_of_self_harm_shows_help_first_and_sells_nothing(client, db, auth):
    auth.as_role("patient")
    response = submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **items(12, 9, item9=1)},
                      headers=BROWSER)
    assert response.headers["Location"].endswith("/measures/retake/support")
    words = text_of(client.get("/measures/retake/support", headers=BROWSER))
    main = words.split("Please reach out for support now", 1)[1]
    assert main.index("Call 988") < main.index("What happens now")
    assert "Text HOME to 741741" in main and "Call 911" in main
    assert not SELLING.search(main)
    assert _rows(db, ClinicalAlert) == 1 and _rows(db, Measure) == 1


def test_a_refused_retake_with_a_crisis_answer_shows_help(client, db, auth):
    auth.as_role("patient")
    data = items(12, 9, item9=3)
    del data["q2"]
    response = submit(client, "/measures/retake", {"instrument": "phq9", "version": "1", **data}, headers=BROWSER)
    words = text_of(response)
    assert response.status_code == 422
    assert words.index("You can get help right now") < words.index("Question 2: This question is required.")
    assert _rows(db, Measure) == 0

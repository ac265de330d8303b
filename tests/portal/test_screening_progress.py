"""Progress and retakes in the browser: the chart of a demo patient in treatment (read only), and a
retake by a patient of this test's own (a crisis answer on PHQ-9 shows help first, then GAD-7)."""
from __future__ import annotations

import re
import uuid

from tests.portal.conftest import DEMO_PASSWORD, check_page, sign_in
from tests.portal.test_screening_wizard import FREQUENCY, SELLING


def _own_patient(app) -> str:
    """A new NY patient whose anonymous screening (PHQ-9 16, GAD-7 12) was claimed at sign-up."""
    from telehealth.demo import DEMO_PATIENT, screening_answers
    from telehealth.extensions import db
    from telehealth.schemas.accounts.accounts import PatientSignupIn
    from telehealth.services.accounts import accounts
    from telehealth.services.screening import assessments

    email = f"retake.{uuid.uuid4().hex[:10]}@example.org"
    with app.app_context():
        _, claim = assessments.submit(None, "screening", 1, screening_answers())
        accounts.sign_up_patient(PatientSignupIn.model_validate(
            {**DEMO_PATIENT, "email": email, "assessment_claim_token": claim}))
        db.session.commit()
        db.session.remove()
    return email


def _answer(page, values: list[int]) -> None:
    for number, value in enumerate(values, 1):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label(FREQUENCY[value], exact=True).check()


def test_progress_of_a_patient_in_treatment_is_a_chart_and_a_table(page, world):
    sign_in(page, "patient.treatment@demo.telehealth")
    page.goto("/progress")
    chart = page.get_by_role("img", name="Depression (PHQ-9) scores over time")
    assert chart.count() == 1
    table = page.get_by_role("table", name="Depression (PHQ-9): every score")
    scores = [cell.strip() for cell in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert scores[0] == "20 of 27, severe" and scores[-1] == "7 of 27, mild" and len(scores) >= 5
    assert page.get_by_role("img", name="Anxiety (GAD-7) scores over time").count() == 1
    check_page(page, "screening-progress")


def test_a_retake_refused_then_saved_with_help_first_for_item_9(page, world, app):
    email = _own_patient(app)
    sign_in(page, email, DEMO_PASSWORD)
    page.goto("/progress")
    page.get_by_role("link", name="Answer the questions again").click()
    assert "Part 1 of 2" in page.inner_text("main")
    check_page(page, "screening-retake")
    page.get_by_role("button", name="Save my answers").click()
    assert "Question 1: This question is required." in page.get_by_role("alert").inner_text()
    check_page(page, "screening-retake-refused")
    _answer(page, [1, 1, 1, 1, 1, 1, 1, 1, 1])
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url("**/measures/retake/support")
    main = page.inner_text("main")
    assert main.index("Call 988") < main.index("What happens now") and not SELLING.search(main)
    check_page(page, "screening-retake-support")
    page.get_by_role("link", name="answer the last few questions").click()
    assert "Part 2 of 2" in page.inner_text("main")
    _answer(page, [1, 1, 1, 0, 0, 0, 0])
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url("**/progress")
    table = page.get_by_role("table", name="Anxiety (GAD-7): every score")
    assert [c.strip() for c in table.locator("tbody tr td:nth-child(2)").all_inner_texts()] == ["12 of 21, moderate", "3 of 21, minimal"]
    assert "9 of 27" in page.get_by_role("table", name="Depression (PHQ-9): every score").inner_text()

"""The physician's review in the browser: Dr. Adams opens the queue, moves through it with the keyboard,
opens the demo patient waiting for review (patient.review@), reads the screening and approves it
with `a` then Enter (never one key press); then declines a screening of this test's own with a
reason (refused first without one), and meets a decision someone else took first, in words."""
from __future__ import annotations

import re
import uuid

from tests.portal.conftest import check_page, sign_in

DOCTOR = "dr.adams@demo.telehealth"


def _own_screening(app, first: str) -> int:
    """A screening of a new NY patient of this test's own (Dr. Adams is licensed in NY), waiting for review."""
    from telehealth.extensions import db
    from telehealth.services.screening import assessments
    from tests.conftest import _make_user
    from tests.screening_data import valid_screening_answers

    with app.app_context():
        patient = _make_user(db, "patient", email=f"review.{uuid.uuid4().hex[:10]}@example.org",
                             legal_first_name=first, legal_last_name="Tester")
        assessment, _ = assessments.submit(patient, "screening", 1, valid_screening_answers())
        db.session.commit()
        assessment_id = assessment.id
        db.session.remove()
    return assessment_id


def _status(app, assessment_id: int) -> str:
    from telehealth.extensions import db
    from telehealth.models import Assessment

    with app.app_context():
        value = db.session.get(Assessment, assessment_id).review_status.value
        db.session.remove()
    return value


def _riley(app) -> int:
    from sqlalchemy import select

    from telehealth.extensions import db
    from telehealth.models import Assessment, User

    with app.app_context():
        patient = db.session.scalar(select(User).where(User.email == "patient.review@demo.telehealth"))
        assessment_id = db.session.scalar(select(Assessment.id).where(Assessment.patient_id == patient.id))
        db.session.remove()
    return assessment_id


def test_a_physician_reviews_with_the_keyboard_and_approves_then_declines_one(page, world, app, adams_secret):
    riley = _riley(app)
    own = _own_screening(app, "Dana")
    sign_in(page, DOCTOR)
    page.goto("/reviews")
    assert page.get_by_role("heading", level=1).inner_text() == "Screenings to review"
    assert page.get_by_role("heading", name="Keyboard shortcuts").is_visible()
    check_page(page, "reviews-queue")

    # j moves down the rows until Riley Review's is highlighted (its link has the focus), k goes back
    names = page.locator("[data-shortcut-row] [data-shortcut-open]").all_inner_texts()
    target = names.index("Riley Review")
    for _ in range(target + 1):
        page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Riley Review"
    assert page.locator("tr.is-current").get_by_role("link").inner_text() == "Riley Review"
    check_page(page, "reviews-queue-keyboard")
    page.keyboard.press("o")
    page.wait_for_url(f"**/reviews/{riley}")

    # the screening, read: sections in the questionnaire's words, scores, the reasons, history
    assert page.get_by_role("heading", level=1).inner_text() == "Screening of Riley Review"
    assert page.get_by_role("heading", name="1. Treatment history").is_visible()
    assert page.get_by_role("heading", name="5. Medical screen").is_visible()
    assert page.get_by_text("moderately severe (15–19)").is_visible()
    assert page.get_by_text("Needs a physician's judgement").is_visible()
    assert page.locator(".reasons li").count() >= 1
    assert page.get_by_text("This is the patient's first screening.").is_visible()
    check_page(page, "reviews-screening")

    # ? brings the list of shortcuts; a goes to the approve button and asks for Enter: nothing recorded yet
    page.keyboard.press("?")
    assert page.evaluate("document.activeElement.id") == "keyboard-shortcuts"
    page.keyboard.press("a")
    approve = page.get_by_role("button", name="Approve for consult")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Approve for consult"
    confirm = page.get_by_text("Press Enter to approve this screening for a consult")
    assert confirm.is_visible()
    assert _status(app, riley) == "pending"
    check_page(page, "reviews-approve-confirm")
    page.keyboard.press("Escape")
    assert confirm.is_hidden()
    assert _status(app, riley) == "pending"
    page.keyboard.press("a")
    assert approve.is_visible()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Approved for consult: Riley Review can now book a consultation." in page.get_by_role("status").first.inner_text()
    assert _status(app, riley) == "approved"
    check_page(page, "reviews-after-approve")

    # our own screening: declining without a reason is refused in words, then declined with one
    page.goto(f"/reviews/{own}")
    assert page.get_by_role("heading", level=1).inner_text() == "Screening of Dana Tester"
    page.get_by_role("button", name="Decline", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="Tell the patient why.")
    assert alert.is_visible() and "Required for this decision." in alert.inner_text()
    # the page comes back scrolled to the decision, so the refusal is on screen even on a phone
    assert alert.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    assert _status(app, own) == "pending"
    check_page(page, "reviews-decline-refused")
    page.get_by_label("Reason the patient will read").fill(
        "Your answers show your depression has eased; please talk with your own doctor first.")
    page.get_by_role("button", name="Decline", exact=True).click()
    page.wait_for_load_state()
    assert "Declined: Dana Tester will read your reason" in page.get_by_role("status").first.inner_text()
    assert _status(app, own) == "declined"
    check_page(page, "reviews-after-decline")


def test_a_decision_taken_first_by_someone_else_is_refused_in_words(page, world, app, adams_secret):
    own = _own_screening(app, "Eli")
    sign_in(page, DOCTOR)
    page.goto(f"/reviews/{own}")
    assert page.get_by_role("heading", level=1).inner_text() == "Screening of Eli Tester"
    with app.app_context():  # Dr. Brooks approves it while Dr. Adams reads
        from sqlalchemy import select

        from telehealth.extensions import db
        from telehealth.models import User
        from telehealth.models.screening.assessments import Decision
        from telehealth.services.screening import reviews

        brooks = db.session.scalar(select(User).where(User.email == "dr.brooks@demo.telehealth"))
        reviews.decide(brooks, own, Decision.APPROVE, message=None, note=None)
        db.session.remove()
    page.get_by_label("Your question for the patient").fill("How many hours do you sleep?")
    page.get_by_role("button", name="Send the question").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Your decision was not recorded"
    assert re.search(r"Dr\. Samuel Brooks approved this screening since you opened this page",
                     page.get_by_role("alert").inner_text())
    assert _status(app, own) == "approved"
    check_page(page, "reviews-conflict")

"""The physician's patients, chart and follow-up in the browser: Dr. Chen (the treatment-stage demo
patient's physician) finds Quinn Treatment in her patients, opens the chart (its opening said to be
recorded), records a follow-up decision after a refusal in words, pauses and resumes treatment; and
Dr. Adams, not on that patient's care team, does not find them at all."""
from __future__ import annotations

from tests.portal.conftest import check_page, sign_in

PATIENT = "Quinn Treatment"


def test_a_physician_finds_a_patient_opens_the_chart_decides_pauses_and_resumes(page, world):
    sign_in(page, "dr.chen@demo.telehealth")
    page.goto("/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Your patients"
    check_page(page, "care-chart-patients")
    page.get_by_label("Search by name").fill("quinn")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text=PATIENT)
    assert row.count() == 1 and "Active treatment" in row.inner_text() and "7 (mild" in row.inner_text()
    row.get_by_role("link", name=PATIENT).click()

    # the chart: who, then safety and outcomes before anything else; its opening is recorded
    assert page.get_by_role("heading", level=1).inner_text() == PATIENT
    assert page.get_by_text("Your opening of this chart was recorded").is_visible()
    outcomes = page.get_by_role("table", name="Outcomes from baseline to the latest score")
    phq9 = outcomes.get_by_role("row").filter(has_text="PHQ-9").inner_text()
    assert "19" in phq9 and "7" in phq9 and "Response" in phq9
    assert page.get_by_role("img", name="Depression (PHQ-9) scores over time").count() == 1
    safety = page.locator("#safety-title").bounding_box()["y"]
    assert safety < page.locator("#sessions-title").bounding_box()["y"]
    assert "We talked about your first session and a grounding practice." in page.inner_text("main")
    check_page(page, "care-chart")

    # a decision: refused in words without one, then recorded
    page.get_by_role("link", name="Follow-up: decide, pause, clear").click()
    assert page.get_by_role("heading", name="Latest measures").is_visible()
    check_page(page, "care-chart-follow-up")
    page.get_by_role("button", name="Record the decision").click()
    assert "see the marked fields" in page.get_by_role("alert").first.inner_text()
    check_page(page, "care-chart-follow-up-refused")
    page.get_by_label("Continue").check()
    page.get_by_label("What you decided and why").fill("Response holding at PHQ-9 7; same plan, next stage as due.")
    page.get_by_role("button", name="Record the decision").click()
    assert "Decision recorded: Continue." in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Response holding at PHQ-9 7; same plan").first.is_visible()
    check_page(page, "care-chart-decided")

    # pause, then resume, each with its reason
    page.get_by_role("link", name="Follow-up: decide, pause, clear").click()
    page.get_by_label("Why treatment is paused").fill("Blood pressure trend to review before the next session.")
    page.get_by_role("button", name="Pause treatment").click()
    assert "Treatment is paused" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Paused", exact=True).first.is_visible()
    check_page(page, "care-chart-paused")
    page.get_by_label("Why treatment resumes").fill("Readings reviewed: in range.")
    page.get_by_role("button", name="Resume treatment").click()
    assert "Treatment is resumed" in page.get_by_role("status").first.inner_text()
    check_page(page, "care-chart-resumed")
    page.get_by_role("link", name="Back to the chart").click()
    assert "Readings reviewed: in range." in page.inner_text("main")


def test_a_physician_not_on_the_care_team_does_not_find_the_patient(page, world, adams_secret):
    sign_in(page, "dr.adams@demo.telehealth")
    page.goto("/patients")
    page.get_by_label("Search by name").fill("quinn")
    page.get_by_role("button", name="Search").click()
    assert "quinn" not in page.url.lower()
    assert "No patient on your care team matches" in page.inner_text("main")
    check_page(page, "care-chart-patients-none")

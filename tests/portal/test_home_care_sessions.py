"""At-home sessions in the browser, as a treatment-stage patient of this test's own: plan a session,
see the gates refused (no sitter, no blood pressure) and a start refused with its reasons, pass them
(124/78, the sitter confirmed while the page watches, the check-in before), start, the calm session
screen with its running time, finish, the check-in after; and the next-day check-in of a session
taken yesterday."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from telehealth.clock import in_zone, now
from tests.portal.conftest import check_page, sign_in
from tests.portal.home_care_support import ZONE, session_taken_yesterday, treatment_patient


def test_a_session_from_planning_to_the_check_in_after(page, app, monkeypatch):
    email = treatment_patient(app, monkeypatch)
    sign_in(page, email)
    page.goto("/sessions")
    assert page.get_by_text("No session is planned.").is_visible()
    check_page(page, "homecare-sessions")

    page.get_by_role("link", name="Plan a session").click()
    check_page(page, "homecare-schedule")
    when = in_zone(now() + timedelta(minutes=30), ZONE).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Date and time").fill(when)
    page.get_by_label("Their name").fill("Jamie Homecare")
    page.get_by_label("Their phone number").fill("(602) 555-0191")
    page.get_by_role("button", name="Plan this session").click()
    assert re.search(r"/sessions/\d+$", page.url)
    assert "Session 1 is planned for" in page.get_by_role("status").first.inner_text()

    # the checklist: every gate with its reason, the sitter and the blood pressure not yet
    sitter_gate, bp_gate = page.locator("#gate-sitter"), page.locator("#gate-blood_pressure")
    assert sitter_gate.inner_text().startswith("Not yet")
    assert "Take your blood pressure and record it" in bp_gate.inner_text()
    assert page.locator("#gate-medication_delivered").inner_text().startswith("Ready")
    check_page(page, "homecare-gates-blocked")
    page.get_by_role("button", name="Start my session").click()
    refusal = page.locator("#start-errors")
    assert "The session cannot start yet" in refusal.inner_text()
    assert "Sitter with you" in refusal.inner_text() and "Blood pressure" in refusal.inner_text()
    check_page(page, "homecare-start-refused")

    page.get_by_label("Top number (systolic)").fill("124")
    page.get_by_label("Bottom number (diastolic)").fill("78")
    page.get_by_role("button", name="Save my reading").click()
    assert "in range for today's session" in page.get_by_role("status").first.inner_text()
    assert bp_gate.inner_text().startswith("Ready")

    # the sitter confirmed by another device (the API): the open page's checklist follows by itself,
    # its polls marked as background requests (they do not put off the automatic logoff)
    polls: list[dict] = []
    page.on("request", lambda request: polls.append(request.headers) if "/checklist" in request.url else None)
    session_id = int(page.url.rsplit("/", 1)[1])
    r = page.request.post(f"/api/v1/me/sessions/{session_id}/sitter", data={"confirmed": True})
    assert r.status == 200, r.text()
    expect(page.locator("#gate-summary")).to_contain_text("All 11 checks are ready", timeout=15_000)
    expect(sitter_gate).to_contain_text("Ready Sitter with you")
    assert polls and all(headers.get("x-background-poll") == "1" for headers in polls)

    pre = page.locator("#check-in-pre")
    pre.get_by_text("6", exact=True).click()
    pre.get_by_role("button", name="Send my answer").click()
    assert "Thank you for checking in." in page.get_by_role("status").first.inner_text()
    check_page(page, "homecare-gates-passed")

    page.get_by_role("button", name="Start my session").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your session is under way"
    assert page.locator("[data-elapsed-seconds]").inner_text().endswith("minutes")
    assert page.get_by_role("heading", name="No driving until tomorrow").is_visible()
    assert page.get_by_role("link", name="Call 911").first.is_visible()
    check_page(page, "homecare-session-in-progress")

    page.get_by_role("button", name="I'm done").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Session 1 is done"
    after = page.locator("#check-in-post")
    after.get_by_text("7", exact=True).click()
    after.get_by_label("Nausea or feeling sick").check()
    check_page(page, "homecare-after-check-in")
    after.get_by_role("button", name="Send my answers").click()
    assert "7 out of 10" in after.inner_text() and "Nausea or feeling sick" in after.inner_text()
    assert "we will ask how you slept" in page.locator("#check-in-next-day").inner_text()
    # no script error (a refused start's 409 and the missing home page's 404 are responses, not errors)
    assert not [e for e in page.console_errors if not e.startswith("Failed to load resource")], page.console_errors


def test_the_next_day_check_in(page, app, monkeypatch):
    email = treatment_patient(app, monkeypatch, first="Sky")
    session_id = session_taken_yesterday(app, email)
    sign_in(page, email)
    page.goto("/sessions")
    assert "Waiting for your answer: Next-day check-in." in page.get_by_text("Waiting for your answer").inner_text()
    page.get_by_role("link", name=re.compile("Session 1")).click()
    assert page.url.endswith(f"/sessions/{session_id}")
    next_day = page.locator("#check-in-next-day")
    next_day.get_by_role("button", name="Send my answers").click()  # nothing chosen: refused in words
    assert "This field is required." in page.get_by_role("alert").first.inner_text()
    next_day.locator("#next_day-mood").get_by_text("8", exact=True).click()
    next_day.locator("#next_day-sleep_quality").get_by_text("7", exact=True).click()
    check_page(page, "homecare-next-day-check-in")
    next_day.get_by_role("button", name="Send my answers").click()
    assert re.search(r"Mood\s+8 out of 10\s+Sleep\s+7 out of 10", next_day.inner_text())

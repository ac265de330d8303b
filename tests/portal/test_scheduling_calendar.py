"""The care team's calendar in the browser: the demo coach sets her weekly hours in the grid (a
reversed window refused next to its row first), adds a day off and sees it in the week; the demo
physician reads the on-call rota. The coach's demo hours are put back afterwards (other tests book
her)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete

from telehealth.clock import today_in
from telehealth.demo import COACH_HOURS
from telehealth.extensions import db as _db
from telehealth.models import AvailabilityException
from telehealth.services.accounts import accounts
from telehealth.services.scheduling import scheduling
from tests.portal.conftest import check_page, sign_in

COACH = "coach.lee@demo.telehealth"


@pytest.fixture
def coach_hours_restored(app, world):
    yield
    with app.app_context():
        coach = accounts.find_by_email(COACH)
        scheduling.set_weekly_windows(coach, COACH_HOURS)
        _db.session.execute(delete(AvailabilityException).where(AvailabilityException.provider_id == coach.id))
        _db.session.commit()
        _db.session.remove()


def test_a_coach_sets_her_hours_adds_time_off_and_sees_her_week(page, app, coach_hours_restored):
    sign_in(page, COACH)
    page.goto("/calendar")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Calendar"
    assert "This week" in page.get_by_role("heading", name=re.compile("^Week of")).inner_text()
    assert "Times are in your own zone, America/Chicago" in page.inner_text("main")
    check_page(page, "scheduling-calendar-week")

    page.get_by_role("navigation", name="Calendar").get_by_role("link", name="Weekly hours").click()
    saturday = page.get_by_role("group", name="Saturday")  # a fieldset and its legend per weekday
    assert saturday.get_by_label("Not available on Saturdays").is_checked()
    assert page.get_by_label("Monday, hours 1, from").input_value() == "09:00"
    check_page(page, "scheduling-calendar-hours")
    page.get_by_label("Not available on Mondays").focus()  # the keyboard goes along the row
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "field-w0-0-start"
    saturday.get_by_label("Saturday, hours 1, from").fill("10:00")
    saturday.get_by_label("Saturday, hours 1, until").fill("13:00")
    saturday.get_by_label("Not available on Saturdays").uncheck()
    sunday = page.get_by_role("group", name="Sunday")
    sunday.get_by_label("Not available on Sundays").uncheck()
    sunday.get_by_label("Sunday, hours 1, from").fill("15:00")
    sunday.get_by_label("Sunday, hours 1, until").fill("11:00")
    page.get_by_role("button", name="Save weekly hours").click()
    summary = page.get_by_role("alert")
    assert "Nothing was saved" in summary.inner_text() and "Sunday, hours 1: End after start." in summary.inner_text()
    assert "Hours 1: End after start." in sunday.inner_text()  # next to its own row
    assert page.get_by_label("Sunday, hours 1, from").get_attribute("aria-invalid") == "true"
    check_page(page, "scheduling-calendar-hours-refused")
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "field-w6-0-start"
    page.get_by_label("Sunday, hours 1, from").fill("")
    page.get_by_label("Sunday, hours 1, until").fill("")
    page.get_by_role("button", name="Save weekly hours").click()
    assert "Your weekly hours are saved" in page.get_by_role("status").first.inner_text()
    assert page.get_by_label("Saturday, hours 1, from").input_value() == "10:00"
    check_page(page, "scheduling-calendar-hours-saved")

    with app.app_context():
        day_off = today_in("America/Chicago") + timedelta(days=7)
        day_off -= timedelta(days=day_off.weekday() - 1)  # Tuesday next week
        _db.session.remove()
    page.get_by_role("navigation", name="Calendar").get_by_role("link", name="Time off and extra hours").click()
    page.get_by_label("Date").fill(day_off.isoformat())
    page.get_by_label("Time off (not available)").check()
    page.get_by_role("button", name="Add", exact=True).click()
    assert "Time off added for Tuesday" in page.get_by_role("status").first.inner_text()
    row = page.get_by_role("row", name=re.compile(f"{day_off:%B} {day_off.day}, {day_off.year}"))
    assert "Time off" in row.inner_text() and "All day" in row.inner_text()
    check_page(page, "scheduling-calendar-exceptions")

    page.get_by_role("navigation", name="Calendar").get_by_role("link", name="Week", exact=True).click()
    page.get_by_role("link", name="Next week").click()
    tuesday = page.get_by_role("region", name=re.compile(f"^Tuesday {day_off:%b} {day_off.day}"))
    assert "Not available" in tuesday.inner_text() and "Time off, all day" in tuesday.inner_text()
    saturday = page.get_by_role("region", name=re.compile("^Saturday"))
    assert "Open 10:00 AM to 1:00 PM" in " ".join(saturday.inner_text().split())
    check_page(page, "scheduling-calendar-next-week")
    page.get_by_role("link", name="This week", exact=True).click()
    assert "This week" in page.get_by_role("heading", name=re.compile("^Week of")).inner_text()


def test_a_coach_makes_a_feed_address_and_turns_it_off(page, app, world):
    sign_in(page, COACH)
    page.goto("/calendar/feed")
    page.get_by_role("button", name="Make my feed address").click()
    field = page.get_by_label("Your private feed address")
    assert re.search(r"/calendar/feeds/[^/]+\.ics$", field.input_value())
    assert page.get_by_role("button", name="Copy the feed address").is_visible()  # the script shows it
    check_page(page, "scheduling-calendar-feed")
    page.get_by_role("button", name="Turn the feed off").click()
    assert "turned off" in page.get_by_role("status").first.inner_text()


def test_a_physician_reads_the_on_call_rota(page, world):
    sign_in(page, "dr.brooks@demo.telehealth")
    page.goto("/on-call")
    assert page.get_by_role("heading", level=1).inner_text() == "On call"
    now = page.get_by_role("region", name="Now", exact=True)
    assert re.search(r"\+1 \d{3}-\d{3}-\d{4}", now.inner_text())  # the demo rota: someone is on call, with a phone
    assert page.get_by_role("table").get_by_role("row").count() > 2
    check_page(page, "scheduling-on-call")

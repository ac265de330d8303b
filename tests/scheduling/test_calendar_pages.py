"""The care team's calendar pages with Flask's test client: the week in the provider's own zone
(across a daylight-saving change), week navigation, the weekly grid (saved windows change the slots
patients see; reversed or overlapping windows refused next to their row, nothing saved), time off
and extra hours, the private feed, the on-call rota with its gaps, who may open what, and a week
that reads the same number of statements however many appointments it holds."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from telehealth.models import Appointment, AppointmentStatus, AvailabilityException, CalendarFeed
from telehealth.services.platform import on_call
from telehealth.services.scheduling import calendars, scheduling
from telehealth.tokens import token_hash
from tests.conftest import PASSWORD, _make_user
from tests.pages_support import BROWSER, submit, text_of

UTC = timezone.utc
NOW = datetime(2026, 3, 4, 17, tzinfo=UTC)  # Wednesday noon in New York, before daylight time (8 March)
_FEED = re.compile(r'value="(https?://[^"]+/calendar/feeds/([^"]+)\.ics)"')


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _sign_in(app, user):
    browser = app.test_client()
    r = browser.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return browser


@pytest.fixture
def coach(db, clock):
    """A coach in Chicago: Mondays 9 to 12, Wednesdays 13 to 17 (wall-clock, her own zone)."""
    coach = _make_user(db, "coach", time_zone="America/Chicago", display_name="Jordan Lee")
    scheduling.set_weekly_windows(coach, [(0, time(9), time(12)), (2, time(13), time(17))])
    return coach


@pytest.fixture
def browser(app, coach):
    return _sign_in(app, coach)


def _appointment(db, patient, provider, starts_at, type_="coaching_30", status=AppointmentStatus.BOOKED):
    minutes = scheduling.APPOINTMENT_TYPES[type_].minutes
    row = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type=type_, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=minutes), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=minutes), credit_kind="coaching_30",
                      video_room=f"appt-{secrets.token_hex(8)}", status=status)
    db.session.add(row)
    db.session.commit()
    return row


def _grid(rows: dict[int, list[tuple[str, str]]], off: tuple[int, ...] = ()) -> dict:
    """The grid's form: {weekday: [(start, end), ...]}; days not named are left empty."""
    data = {}
    for weekday, windows in rows.items():
        for n, (start, end) in enumerate(windows):
            data[f"w{weekday}-{n}-start"], data[f"w{weekday}-{n}-end"] = start, end
    for weekday in off:
        data[f"w{weekday}-off"] = "1"
    return data


def _windows(coach):
    return [(w.weekday, w.start_time, w.end_time) for w in scheduling.windows_of(coach.id)]


# ------------------------------------------------------------------ who may open what


@pytest.mark.parametrize("role", ["patient", "ops", "admin"])
def test_other_roles_get_the_refusal_page(app, db, clock, role):
    browser = _sign_in(app, _make_user(db, role))
    for path in ("/calendar", "/calendar/availability", "/calendar/exceptions", "/calendar/feed", "/on-call"):
        r = browser.get(path, headers=BROWSER)
        assert r.status_code == 403, (role, path)
        assert "not part of your account" in text_of(r), path


def test_a_physician_opens_every_calendar_page(app, db, clock):
    doctor = _make_user(db, "physician", time_zone="America/New_York")
    browser = _sign_in(app, doctor)
    for path in ("/calendar", "/calendar/availability", "/calendar/exceptions", "/calendar/feed", "/on-call"):
        assert browser.get(path).status_code == 200, path
    assert 'href="/calendar"' in browser.get("/on-call").get_data(as_text=True)  # the navigation names it


# ------------------------------------------------------------------ the week


def test_the_week_lays_out_appointments_by_day_in_the_providers_zone(app, db, coach, browser):
    patient = _make_user(db, "patient", display_name="Pat Morgan")
    other = _make_user(db, "patient", display_name="Sam Ortiz")
    _appointment(db, patient, coach, datetime(2026, 3, 2, 15, tzinfo=UTC))            # Mon 9:00 AM CST
    _appointment(db, other, coach, datetime(2026, 3, 5, 3, 30, tzinfo=UTC))            # Wed 9:30 PM CST
    _appointment(db, other, coach, datetime(2026, 3, 9, 15, tzinfo=UTC))               # next week
    cancelled = _appointment(db, patient, coach, datetime(2026, 3, 6, 16, tzinfo=UTC),
                             status=AppointmentStatus.CANCELLED)
    text = text_of(browser.get("/calendar"))
    assert "Week of Monday, March 2, 2026 This week" in text
    assert "Times are in your own zone, America/Chicago" in text and "2 appointments booked this week" in text
    monday = text[text.index("Monday Mar 2"):text.index("Tuesday Mar 3")]
    assert "Open 9:00 AM to 12:00 PM" in monday
    assert "9:00 AM to 9:30 AM Pat Morgan Integration coaching, 30 minutes" in monday
    wednesday = text[text.index("Wednesday Mar 4"):text.index("Thursday Mar 5")]
    assert "Today" in wednesday and "Open 1:00 PM to 5:00 PM" in wednesday
    assert "9:30 PM to 10:00 PM Sam Ortiz" in wednesday  # 03:30 UTC Thursday is still Wednesday in Chicago
    friday = text[text.index("Friday Mar 6"):text.index("Saturday Mar 7")]
    assert "Pat Morgan" in friday and "Cancelled" in friday and "Not available" in friday
    assert "Mar 9" not in text
    assert cancelled.id  # shown, in words, not hidden


def test_the_open_hours_keep_their_wall_clock_across_daylight_saving(app, db, coach, browser):
    before = text_of(browser.get("/calendar?week=2026-03-02"))
    after = text_of(browser.get("/calendar?week=2026-03-09"))  # Chicago moved to daylight time on the 8th
    assert "Monday Mar 2 Open 9:00 AM to 12:00 PM" in before
    assert "Monday Mar 9 Open 9:00 AM to 12:00 PM" in after
    grid = browser.get("/calendar/availability").get_data(as_text=True)
    assert 'name="w0-0-start" value="09:00"' in grid and 'name="w0-0-end" value="12:00"' in grid
    assert 'name="w2-0-start" value="13:00"' in grid


def test_touching_windows_read_as_one_stretch_and_time_off_cuts_them(app, db, coach, browser):
    scheduling.set_weekly_windows(coach, [(0, time(9), time(12)), (0, time(12), time(14)), (0, time(16), time(17))])
    scheduling.add_exception(coach, date(2026, 3, 9), "off", time(10), time(11))
    text = text_of(browser.get("/calendar?week=2026-03-02"))
    assert "Monday Mar 2 Open 9:00 AM to 2:00 PM 4:00 PM to 5:00 PM No appointments" in text
    text = text_of(browser.get("/calendar?week=2026-03-09"))
    assert ("Monday Mar 9 Open 9:00 AM to 10:00 AM 11:00 AM to 2:00 PM 4:00 PM to 5:00 PM "
            "Time off, 10:00 AM to 11:00 AM") in text


def test_weeks_move_back_and_forth_and_a_bad_date_shows_this_week(app, db, coach, browser):
    html = browser.get("/calendar?week=2026-03-12").get_data(as_text=True)  # a Thursday: its Monday's week
    assert "Week of Monday, March 9, 2026" in text_of_html(html)
    assert 'href="/calendar?week=2026-03-02"' in html and 'href="/calendar?week=2026-03-16"' in html
    assert ">This week</a>" in html
    this_week = browser.get("/calendar?week=not-a-date")
    assert "Week of Monday, March 2, 2026 This week" in text_of(this_week)
    assert ">This week</a>" not in this_week.get_data(as_text=True)
    assert browser.get("/calendar?week=9999-12-31").status_code == 200  # clamped, not an error


def text_of_html(html: str) -> str:
    class _R:
        def get_data(self, as_text=True):
            return html
    return text_of(_R())


def test_the_week_reads_the_same_statements_for_two_or_ten_appointments(app, db, coach, browser, count_queries):
    def load(n: int) -> int:
        for i in range(n):
            patient = _make_user(db, "patient")
            _appointment(db, patient, coach, datetime(2026, 3, 16, 14, tzinfo=UTC) + timedelta(hours=i))
        with count_queries() as counter:
            r = browser.get("/calendar?week=2026-03-16")
        assert r.status_code == 200 and f"{n} appointments booked this week" in text_of(r)
        db.session.execute(Appointment.__table__.delete().where(Appointment.provider_id == coach.id))
        db.session.commit()
        return counter.count

    assert load(2) == load(10)


def test_the_week_links_each_booked_appointment_to_its_room_when_that_page_exists(app, db, coach, browser):
    booked = _appointment(db, _make_user(db, "patient"), coach, datetime(2026, 3, 5, 15, tzinfo=UTC))
    html = browser.get("/calendar").get_data(as_text=True)
    room = f"/appointments/{booked.id}/room"
    if "consult_pages.room" in app.view_functions:
        with app.test_request_context():
            from flask import url_for
            room = url_for("consult_pages.room", appointment_id=booked.id)
        assert room in html
    else:
        assert "Video room" not in html


# ------------------------------------------------------------------ the weekly grid


def test_saved_windows_change_the_slots_patients_are_offered(app, db, coach, browser):
    patient = _make_user(db, "patient", time_zone="America/Chicago")
    r = submit(browser, "/calendar/availability", _grid({0: [("13:00", "14:00")], 4: [("08:00", "09:00"),
                                                                                      ("17:00", "18:00")]}),
               headers=BROWSER)
    assert r.status_code == 302
    assert "Your weekly hours are saved" in text_of(browser.get(r.headers["Location"]))
    assert _windows(coach) == [(0, time(13), time(14)), (4, time(8), time(9)), (4, time(17), time(18))]
    monday = datetime(2026, 3, 9, 5, tzinfo=UTC)  # Monday 00:00 CDT
    found = scheduling.find_slots(patient, "coaching_30", monday, monday + timedelta(days=1), provider_id=coach.id)
    assert found and found[0].starts_at == datetime(2026, 3, 9, 18, tzinfo=UTC)  # 1:00 PM CDT
    assert all(s.ends_at <= datetime(2026, 3, 9, 19, tzinfo=UTC) for s in found)  # until 2:00 PM


def test_not_available_clears_a_day_even_with_times_typed(app, db, coach, browser):
    r = submit(browser, "/calendar/availability", _grid({0: [("09:00", "12:00")], 2: [("13:00", "17:00")]}, off=(2,)),
               headers=BROWSER)
    assert r.status_code == 302
    assert _windows(coach) == [(0, time(9), time(12))]
    assert 'name="w2-off" value="1" checked' in browser.get("/calendar/availability").get_data(as_text=True)


def test_reversed_and_overlapping_windows_are_refused_next_to_their_row_and_nothing_saved(app, db, coach, browser):
    before = _windows(coach)
    r = submit(browser, "/calendar/availability",
               _grid({0: [("09:00", "12:00")], 1: [("15:00", "11:00")]}), headers=BROWSER)
    assert r.status_code == 422
    text = text_of(r)
    assert "Tuesday, hours 1: End after start." in text
    html = r.get_data(as_text=True)
    assert 'id="w1-error">Hours 1: End after start.' in html
    assert 'name="w1-0-start" value="15:00" step="300" aria-invalid="true"' in html  # what was typed stays
    assert _windows(coach) == before

    r = submit(browser, "/calendar/availability",
               _grid({0: [("09:00", "12:00")], 3: [("09:00", "12:00"), ("11:00", "13:00")]}), headers=BROWSER)
    assert r.status_code == 422
    text = text_of(r)
    assert "Windows of the same day must not overlap. Nothing was saved." in text
    assert "Thursday, hours 2: Overlaps another window of the same day." in text
    assert 'id="w3-error">Hours 2: Overlaps another window of the same day.' in r.get_data(as_text=True)
    assert _windows(coach) == before

    r = submit(browser, "/calendar/availability", _grid({5: [("09:00", "")]}), headers=BROWSER)
    assert r.status_code == 422
    assert "Saturday, hours 1: Give both a start and an end time, or neither." in text_of(r)
    assert _windows(coach) == before


def test_the_api_refuses_overlapping_windows_too(app, db, coach, browser):
    r = browser.put("/api/v1/me/availability", json={"windows": [
        {"weekday": 0, "start_time": "09:00", "end_time": "12:00"},
        {"weekday": 0, "start_time": "11:30", "end_time": "13:00"},
        {"weekday": 1, "start_time": "11:30", "end_time": "13:00"}]})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"windows.1": ["Overlaps another window of the same day."]}
    r = browser.put("/api/v1/me/availability", json={"windows": [  # touching is not overlapping
        {"weekday": 0, "start_time": "09:00", "end_time": "12:00"},
        {"weekday": 0, "start_time": "12:00", "end_time": "13:00"}]})
    assert r.status_code == 200


# ------------------------------------------------------------------ exceptions


def test_time_off_and_extra_hours_are_added_listed_and_removed(app, db, coach, browser):
    r = submit(browser, "/calendar/exceptions", {"day": "2026-03-09", "kind": "off"}, headers=BROWSER)
    assert r.status_code == 302
    assert "Time off added for Monday, March 9." in text_of(browser.get(r.headers["Location"]))
    r = submit(browser, "/calendar/exceptions", {"day": "2026-03-14", "kind": "extra", "start_time": "10:00",
                                                 "end_time": "12:30"}, headers=BROWSER)
    assert r.status_code == 302
    db.session.add(AvailabilityException(provider_id=coach.id, day=date(2026, 3, 1), kind="off"))  # past
    db.session.commit()
    text = text_of(browser.get("/calendar/exceptions"))
    assert "Monday, March 9, 2026 Time off All day" in text
    assert "Saturday, March 14, 2026 Extra hours 10:00 AM to 12:30 PM" in text
    assert "March 1, 2026" not in text
    week = text_of(browser.get("/calendar?week=2026-03-09"))
    assert "Monday Mar 9 Not available Time off, all day" in week
    assert "Saturday Mar 14 Open 10:00 AM to 12:30 PM Extra hours, 10:00 AM to 12:30 PM" in week

    [off] = [e for e in db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.provider_id == coach.id, AvailabilityException.day == date(2026, 3, 9)))]
    r = submit(browser, f"/calendar/exceptions/{off.id}/remove", {}, token_from="/calendar/exceptions",
               headers=BROWSER)
    assert r.status_code == 302
    assert "Your weekly hours apply again" in text_of(browser.get(r.headers["Location"]))
    assert db.session.scalar(select(AvailabilityException.id).where(AvailabilityException.id == off.id)) is None


def test_an_exception_form_with_a_mistake_is_shown_again_with_the_reason(app, db, coach, browser):
    r = submit(browser, "/calendar/exceptions", {"day": "2026-03-14", "kind": "extra"}, headers=BROWSER)
    assert r.status_code == 422
    assert "Extra hours need their times." in text_of(r)
    assert 'value="2026-03-14"' in r.get_data(as_text=True)
    r = submit(browser, "/calendar/exceptions", {"day": "2026-03-14", "kind": "off", "start_time": "15:00",
                                                 "end_time": "14:00"}, headers=BROWSER)
    assert r.status_code == 422 and "End after start, or leave both empty." in text_of(r)
    r = submit(browser, "/calendar/exceptions", {"kind": "off"}, headers=BROWSER)
    assert r.status_code == 422 and "Date: This field is required." in text_of(r)
    # a day gone by is refused in words, not saved unseen; nor a slip to the year 9999
    r = submit(browser, "/calendar/exceptions", {"day": "2020-01-01", "kind": "off"}, headers=BROWSER)
    assert r.status_code == 422 and "That day has passed" in text_of(r)
    r = submit(browser, "/calendar/exceptions", {"day": "9999-12-31", "kind": "off"}, headers=BROWSER)
    assert r.status_code == 422 and "more than two years ahead" in text_of(r)
    assert db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.provider_id == coach.id)).all() == []


def test_another_providers_exception_cannot_be_removed(app, db, coach, browser):
    other = _make_user(db, "coach")
    theirs = scheduling.add_exception(other, date(2026, 3, 10), "off", None, None)
    r = submit(browser, f"/calendar/exceptions/{theirs.id}/remove", {}, token_from="/calendar/exceptions",
               headers=BROWSER)
    assert r.status_code == 404
    assert db.session.get(AvailabilityException, theirs.id) is not None


def test_the_exceptions_list_is_paged(app, db, coach, browser):
    for i in range(23):
        db.session.add(AvailabilityException(provider_id=coach.id, day=date(2026, 4, 1) + timedelta(days=i),
                                             kind="off"))
    db.session.commit()
    first = browser.get("/calendar/exceptions").get_data(as_text=True)
    assert first.count("Remove<span") == 20 and 'href="/calendar/exceptions?page=2"' in first
    second = browser.get("/calendar/exceptions?page=2").get_data(as_text=True)
    assert second.count("Remove<span") == 3 and "April 23, 2026" in second


# ------------------------------------------------------------------ the private feed


def test_the_feed_address_is_shown_once_replaced_and_revoked(app, db, coach, browser):
    assert "You have no feed." in text_of(browser.get("/calendar/feed"))
    r = submit(browser, "/calendar/feed", {}, headers=BROWSER)
    assert r.status_code == 200
    url, token = _FEED.search(r.get_data(as_text=True)).groups()
    assert "it is shown only once" in text_of(r) and 'readonly' in r.get_data(as_text=True)
    assert "earlier address" not in text_of(r)
    assert db.session.get(CalendarFeed, coach.id).token_hash == token_hash(token)
    assert calendars.feed_ics(token).startswith(b"BEGIN:VCALENDAR")
    again = browser.get("/calendar/feed")
    assert token not in again.get_data(as_text=True) and "Your feed is on" in text_of(again)

    r = submit(browser, "/calendar/feed", {}, headers=BROWSER)  # a new address: the old one stops working
    _, new_token = _FEED.search(r.get_data(as_text=True)).groups()
    assert new_token != token and "The earlier address no longer works." in text_of(r)
    assert app.test_client().get(f"/calendar/feeds/{token}.ics").status_code == 404

    r = submit(browser, "/calendar/feed/revoke", {}, token_from="/calendar/feed", headers=BROWSER)
    assert r.status_code == 302 and "Your calendar feed is turned off" in text_of(browser.get(r.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(CalendarFeed, coach.id) is None
    r = submit(browser, "/calendar/feed/revoke", {}, token_from="/calendar/feed", headers=BROWSER)
    assert "already off" in text_of(browser.get(r.headers["Location"]))


# ------------------------------------------------------------------ on call


def test_on_call_now_next_and_the_gaps_in_the_viewers_zone(app, db, clock):
    viewer = _make_user(db, "physician", time_zone="America/Los_Angeles", display_name="Dr. Viewer")
    other = _make_user(db, "physician", display_name="Dr. Ada Brooks")
    on_call.create_shift(None, other.id, NOW - timedelta(hours=5), NOW + timedelta(hours=3), phone="+12125550150")
    on_call.create_shift(None, viewer.id, NOW + timedelta(hours=3), NOW + timedelta(hours=27), phone="+12125550151")
    on_call.create_shift(None, other.id, NOW + timedelta(days=2), NOW + timedelta(days=3), phone="+12125550150")
    text = text_of(_sign_in(app, viewer).get("/on-call"))
    now_part = text[text.index("Now"):text.index("Next")]
    assert "Dr. Ada Brooks +1 212-555-0150" in now_part and "Until Wed, Mar 4, 12:00 PM PST" in now_part
    next_part = text[text.index("Next"):text.index("The next 14 days")]
    assert "Dr. Viewer (you)" in next_part and "From Wed, Mar 4, 12:00 PM PST" in next_part
    rota = text[text.index("The next 14 days"):]
    assert "2 gaps with nobody on call" in rota
    # the gap between the second and third shift, in words, in Pacific time
    assert "Thu, Mar 5, 12:00 PM PST Fri, Mar 6, 9:00 AM PST Gap: nobody on call" in rota
    assert rota.count("Gap: nobody on call") == 2  # and the one after the last shift


def test_nobody_on_call_says_so_and_who_is_paged(app, db, clock):
    coach = _make_user(db, "coach")
    text = text_of(_sign_in(app, coach).get("/on-call"))
    assert "Nobody is on call now. Urgent alerts page every active physician" in text
    assert "No one is on the rota after this." in text
    assert "1 gap with nobody on call" in text

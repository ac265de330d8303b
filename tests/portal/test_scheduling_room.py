"""The video room in the browser, as the demo consult patient (their consult began at seeding, so
its room is open): twilio-video loads from the app, and with no Twilio reachable here the page says
it could not connect, in words, instead of hanging."""
import re

from tests.portal.conftest import check_page, sign_in


def test_the_open_room_loads_twilio_video_and_says_when_it_cannot_connect(page, world):
    sign_in(page, "patient.consult@demo.telehealth")
    page.goto("/appointments")
    page.get_by_role("link", name=re.compile("^Join the video")).first.click()
    assert page.url.endswith("/room")
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.Twilio.Video.connect") == "function"
    problem = page.locator("#room-problem")
    problem.wait_for(state="visible", timeout=30_000)
    assert "could not connect to the video service" in problem.inner_text()
    assert page.get_by_role("button", name="Try again").is_visible()
    check_page(page, "scheduling-room")

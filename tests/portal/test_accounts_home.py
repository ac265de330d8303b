"""The patient's home in the browser for the demo's stage patients (read only), and the review
timer counting down without a reload (Playwright's clock)."""
from __future__ import annotations

import re

import pytest

from tests.portal.conftest import check_page, sign_in

STAGES = [
    ("patient.review@demo.telehealth", "review", "Waiting for a physician"),
    ("patient@demo.telehealth", "approved", "Choose a package"),
    ("patient.consult@demo.telehealth", "consult", "Your video consult is open now"),
    ("patient.treatment@demo.telehealth", "treatment", "Book your follow-up"),
]


@pytest.mark.parametrize(("email", "name", "next_words"), STAGES, ids=[s[1] for s in STAGES])
def test_home_shows_the_one_next_step(page, world, email, name, next_words):
    sign_in(page, email)
    page.goto("/home")
    assert page.get_by_role("heading", level=2).first.inner_text().startswith(next_words)
    assert page.locator('li[aria-current="step"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(page, f"accounts-home-{name}")


def test_the_review_timer_counts_down_without_a_reload(page, world):
    page.clock.install()
    sign_in(page, "patient.review@demo.telehealth")
    page.goto("/home")
    timer = page.locator("[data-countdown]")
    hours, minutes = map(int, re.fullmatch(r"(\d+) h (\d+) min", timer.inner_text()).groups())
    page.clock.run_for("01:00:00")
    later = hours * 60 + minutes - 60
    assert timer.inner_text() == f"{later // 60} h {later % 60} min"

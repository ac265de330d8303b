"""The patient's home page with Flask's test client: what the plan says, in words, with the SLA timer
rendered on the server, help first in a crisis, and links only to pages that exist."""
from __future__ import annotations

import html as entities
from datetime import timedelta

import pytest

from telehealth.routes.care.home_pages import duration
from telehealth.services.screening import assessments
from tests import sessions_support
from tests.pages_support import text_of
from tests.screening_data import phq9_answers, valid_screening_answers

clock = sessions_support.clock


@pytest.fixture
def patient(auth, create_user, clock):
    create_user("physician", states=["NY"])
    return auth.as_role("patient")


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(hours=18, minutes=12, seconds=40), "18 h 12 min"), (timedelta(minutes=45), "45 min"),
    (timedelta(seconds=59), "less than a minute"), (timedelta(hours=24), "24 h 0 min"), (None, ""),
])
def test_time_left_in_words(delta, words):
    assert duration(delta) == words


def test_home_counts_down_the_review_promise(client, patient, clock):
    assessments.submit(patient, "screening", 1, valid_screening_answers())
    clock.shift(timedelta(hours=5, minutes=48))
    r = client.get("/home")
    assert r.status_code == 200
    words = entities.unescape(text_of(r))
    assert "Waiting for a physician's review" in words and "18 h 12 min left" in words
    html = r.get_data(as_text=True)
    assert 'data-seconds-left="65520"' in html and "js/home.js" in html
    assert "Done: Free screening" in words and "Next: Waiting for a physician's review" in words
    assert "<title>Home" in html  # nothing about the person in the title


def test_home_in_a_crisis_shows_help_first_and_sells_nothing(client, patient):
    assessments.submit(patient, "screening", 1, valid_screening_answers(phq9=phq9_answers(20, item9=2)))
    r = client.get("/home")
    html = r.get_data(as_text=True)
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert 'href="tel:988"' in main and "741741" in main and 'href="tel:911"' in main
    for selling in ("package", "price", "$", "Book", "consult"):
        assert selling not in main.split("Please reach out")[1], selling
    assert "js/home.js" not in html


def test_a_step_links_to_its_page_only_once_the_page_exists(client, patient, app, db):
    assert "screening" in text_of(client.get("/home")).lower()
    html = client.get("/home").get_data(as_text=True)
    assert ("Start the free screening" in html) == ("screening_pages.start" in app.view_functions)

"""The medication page in the browser, as a treatment-stage patient of this test's own: the
prescription, a stage delivered last week and the next one on its way with its carrier's tracking link."""
from __future__ import annotations

from tests.portal.conftest import check_page, sign_in
from tests.portal.home_care_support import stage_on_its_way, treatment_patient


def test_the_medication_page_shows_each_shipment_and_its_tracking(page, app, monkeypatch):
    email = treatment_patient(app, monkeypatch, first="Jo")
    stage_on_its_way(app, email)
    sign_in(page, email)
    page.goto("/medication")
    assert page.get_by_role("heading", level=1).inner_text() == "Your medication"
    assert "Each session\n200 mg: 2 tablets" in page.get_by_role("region", name="Your prescription").inner_text()
    moving = page.get_by_role("region", name="On its way")
    assert "Medication for 2 sessions (shipment 2)" in moving.inner_text()
    assert "Your medication has left the pharmacy with the carrier." in moving.inner_text()
    link = moving.get_by_role("link", name="Track it on the UPS website (opens in a new tab)")
    assert link.get_attribute("href").startswith("https://www.ups.com/track?tracknum=1ZHOMECARE")
    assert "Delivered" in page.get_by_role("region", name="Delivered").inner_text()
    check_page(page, "pharmacy-medication")

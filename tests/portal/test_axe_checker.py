"""The accessibility check itself: with WCAG 2.1 A/AA rules only, it still finds a serious failure."""
from tests.portal.conftest import axe_violations


def test_the_checker_finds_an_unlabelled_input_and_an_image_without_text(page):
    page.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
                     '<input type="text"><img src="data:,"></main></body></html>')
    found = " ".join(axe_violations(page))
    assert "label" in found and "image-alt" in found

"""Signing in and out in the browser: the form, its refusals, and where it leads."""
from tests.portal.conftest import check_page, sign_in


def test_sign_in_page_refuses_a_wrong_password_in_words_then_signs_in_and_out(page, world):
    page.goto("/login")
    check_page(page, "login")
    page.get_by_label("Email").fill("patient@demo.telehealth")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "password" in alert.inner_text().lower()
    check_page(page, "login-refused")
    sign_in(page, "patient@demo.telehealth")
    assert not page.url.endswith("/login")
    page.goto("/login")  # signed in: the sign-in page sends them on
    assert "/login" not in page.url
    page.get_by_role("button", name="Sign out").first.click()
    assert page.url.endswith("/login")
    assert "signed out" in page.get_by_role("status").first.inner_text()

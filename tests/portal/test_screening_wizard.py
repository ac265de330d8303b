"""The landing page and the free screening in the browser: every step to a likely candidate's result,
a crisis screening (help first, nothing sold), a keyboard-only run, and the wizard with JavaScript off."""
from __future__ import annotations

import re

from tests.portal.conftest import CHROMIUM_ARGS, PHONE, check_page  # noqa: F401
from tests.screening_data import birth_date_for_age

SELLING = re.compile(r"\b(package|price|purchase|buy|checkout|payment|subscri\w*|discount)\b|\$\d", re.I)
FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")


def group(page, question: str):
    """A question's fieldset, by the start of its legend ("3. Trouble falling...")."""
    return page.get_by_role("group", name=re.compile(rf"^\d+\. {re.escape(question)}"))


def answer_scale(page, values: list[int]):
    for number, value in enumerate(values, 1):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label(FREQUENCY[value], exact=True).check()


def yes_no(page, question: str, answer: str):
    group(page, question).get_by_label(answer, exact=True).check()


def fill_treatment_history(page):
    for row, (name, weeks) in enumerate((("sertraline", "8"), ("bupropion", "12"))):
        medication = page.get_by_role("group", name=f"Medication {row + 1}", exact=True)
        medication.get_by_label("Name of the medication").fill(name)
        medication.get_by_label("How many weeks did you take it?").fill(weeks)
        medication.get_by_role("group", name=re.compile("^Did you take the dose")).get_by_label("Yes").check()
    yes_no(page, "Have you tried talk therapy", "Yes")


def fill_cssrs_all_no(page):
    for question in ("Have you wished you were dead", "Have you actually had any thoughts",
                     "Have you ever done anything"):
        yes_no(page, question, "No")


def fill_medical(page):
    page.get_by_label(re.compile("What is your date of birth")).fill(birth_date_for_age(40))
    page.get_by_label(re.compile("In which US state")).select_option("NY")
    for question in ("Are you pregnant", "Have you ever had psychosis", "Have you ever had an episode of mania",
                     "Do you currently have a problem with alcohol", "Have you been told you have raised pressure",
                     "Do you have liver disease", "Do you have bladder or urinary problems"):
        yes_no(page, question, "No")
    yes_no(page, "Do you have high blood pressure", "No")
    yes_no(page, "Do you have heart disease", "No")
    page.get_by_label("Upper number (systolic)").fill("124")
    page.get_by_label("Lower number (diastolic)").fill("79")
    group(page, "Have you ever had any of these?").get_by_label("None of these").check()
    group(page, "Which of these do you take now?").get_by_label("None of these").check()


def next_step(page, button: str = "Continue"):
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def run_to_result(page, *, phq9=(2, 2, 2, 2, 2, 2, 2, 1, 0), gad7=(2, 2, 2, 2, 2, 1, 1), check=None, start=1):
    """From the start page (or step `start`) to the result; `check(name)` runs on every step as a
    person sees it."""
    check = check or (lambda name: None)
    if start == 1:
        page.get_by_role("link", name="Start the screening").click()
        assert "Step 1 of 5" in page.inner_text("main")
        check("screening-step-1")
        fill_treatment_history(page)
        next_step(page)
    assert "Step 2 of 5" in page.inner_text("main")
    check("screening-step-2")
    answer_scale(page, list(phq9))
    next_step(page)
    check("screening-step-3")
    answer_scale(page, list(gad7))
    next_step(page)
    check("screening-step-4")
    fill_cssrs_all_no(page)
    next_step(page)
    check("screening-step-5")
    fill_medical(page)
    next_step(page, "See my result")


def test_landing_then_every_step_of_the_screening_to_a_likely_candidates_result(page, world):
    page.goto("/")
    check_page(page, "screening-landing")
    assert "$249.00" in page.inner_text("#prices") and "Who it is not for" in page.inner_text("main")
    page.get_by_role("link", name="Start the free screening").first.click()
    check_page(page, "screening-start")
    page.get_by_role("link", name="Start the screening").click()
    check_page(page, "screening-step-1")
    # a refusal first: nothing answered on the first page
    next_step(page)
    alert = page.get_by_role("alert")
    assert "Question 2: This question is required." in alert.inner_text()
    check_page(page, "screening-step-1-refused")
    # save and finish later, then carry on by the link
    fill_treatment_history(page)
    next_step(page, "Save and finish later")
    link = page.get_by_label("Link to your saved screening").input_value()
    assert re.search(r"/screening/resume/[A-Za-z0-9_-]{20,}$", link) and "sertraline" not in link
    check_page(page, "screening-saved")
    page.get_by_role("link", name="Carry on now").click()
    assert "Welcome back" in page.inner_text("main")  # at step 2: the first page is answered in full
    run_to_result(page, start=2, check=lambda name: check_page(page, name))
    main = page.inner_text("main")
    assert "You may be a good fit for the program" in main
    assert re.search(r"About 2[34] hours left", main)
    check_page(page, "screening-result")


def test_a_crisis_screening_shows_help_first_and_sells_nothing(page, world):
    page.goto("/screening")
    run_to_result(page, phq9=(3, 3, 2, 2, 2, 2, 1, 1, 2))
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Please reach out for support now"
    main = page.inner_text("main")
    assert main.index("Call 988") < main.index("What happens now")
    assert "Text HOME to 741741" in main and "Call 911" in main
    assert not SELLING.search(main), SELLING.search(main)
    assert page.locator("main a[href^='tel:988']").count() == 1
    check_page(page, "screening-result-crisis")


def _focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, type: e.type || '', name: e.name || '', value: e.value || '',
                text: (e.innerText || '').trim(), checked: !!e.checked}; }""")


def _keyboard_page(page, typed: dict[str, str], done_button: str) -> None:
    """Tab through one page: Space on each group's first choice and on "None of these", type into
    the text boxes named in `typed`, Enter on `done_button`."""
    handled: set[str] = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        el = _focused(page)
        if el["tag"] == "BUTTON" and el["text"] == done_button:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
        if el["name"] in handled or re.search(r"\.[1-9][0-9]*\.", el["name"]):
            continue  # answered already, or a second medication row (left empty)
        if el["type"] == "radio" and not el["checked"]:
            page.keyboard.press("Space")
            handled.add(el["name"])
        elif el["type"] == "checkbox" and el["value"] == "__none__":
            page.keyboard.press("Space")
            handled.add(el["name"])
        elif el["name"] in typed:
            page.keyboard.type(typed[el["name"]])
            handled.add(el["name"])
    raise AssertionError(f"never reached {done_button!r}")


def test_a_keyboard_only_run_of_the_screening(page, world):
    page.goto("/")
    for _ in range(30):
        page.keyboard.press("Tab")
        if _focused(page)["text"] == "Start the free screening":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if _focused(page)["text"] == "Start the screening":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    born = birth_date_for_age(40)
    pages = [
        {"antidepressant_trials.0.name": "sertraline", "antidepressant_trials.0.weeks": "8"},
        {}, {}, {},
        {"date_of_birth": born[5:7] + born[8:10] + born[:4], "state_of_residence": "New York",
         "blood_pressure.systolic": "118", "blood_pressure.diastolic": "76"},
    ]
    for number, typed in enumerate(pages, 1):
        assert f"Step {number} of 5" in page.inner_text("main")
        _keyboard_page(page, typed, "See my result" if number == 5 else "Continue")
    assert page.url.endswith("/screening/result"), page.inner_text("main")[:1500]
    main = page.inner_text("main")
    assert "Your screening result" in main and "Why" in main
    assert "Milder depression and anxiety" in main or "milder depression and anxiety" in main


def test_the_wizard_works_with_javascript_off(browser, world, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/screening")
        page.get_by_role("link", name="Start the screening").click()
        fill_treatment_history(page)
        page.get_by_role("button", name="Add another medication").click()
        assert page.get_by_role("group", name="Medication 3", exact=True).count() == 1
        next_step(page)
        answer_scale(page, [2, 2, 2, 2, 2, 2, 2, 1, 0])
        next_step(page, "Back")  # back keeps this page's answers
        assert "Step 1 of 5" in page.inner_text("main")
        assert page.get_by_role("group", name="Medication 2", exact=True).get_by_label(
            "Name of the medication").input_value() == "bupropion"
        next_step(page)
        assert group(page, "Little interest or pleasure").get_by_label("More than half the days").is_checked()
        next_step(page)
        answer_scale(page, [2, 2, 2, 2, 2, 1, 1])
        next_step(page)
        fill_cssrs_all_no(page)
        next_step(page)
        fill_medical(page)
        next_step(page, "See my result")
        assert "You may be a good fit for the program" in page.inner_text("main")
    finally:
        context.close()

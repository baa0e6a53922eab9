"""The staff console in real Chromium against the whole running stack: a member of staff
changes an office's opening hours and the assistant's next answer in the widget changes,
with no restart; a city's editor is refused another city's entries; two editors saving the
same entry; the pages pass an accessibility check on a phone.

The first admin is made with the README's command (`python -m bot.console create-admin`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.request import Request, urlopen

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from bot.channels.messages import FROM_STAFF
from bot.console.accounts import create_token, create_user
from bot.console.i18n import gettext as console_text
from bot.console.models import StaffUser
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.models import City
from bot.directory.usage import record_feedback
from bot.handoff.phrases import PHRASES
from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from bot.i18n.labels import CHOICES
from tests.support.browser import chromium
from tests.support.stack import REPO, Stack, running_stack, sqlite_url

pytestmark = pytest.mark.e2e

ADMIN, WIEN_EDITOR, DORTMUND_EDITOR = "ada@city.example", "wim@city.example", "dora@city.example"
PASSWORD = "a long console password"
WIDGET = "#welcome-desk-widget"
QUESTION = "Wo kann ich mich in Dortmund anmelden?"
ANSWER_MS = 60_000
SCREENSHOTS = REPO / "reports" / "screenshots"
RESPONSES = load_responses()


TOKENS: dict[str, str] = {}


async def add_editors(stack: Stack) -> None:
    engine = get_engine(sqlite_url(stack.directory_db))
    async with session_maker(engine)() as session, session.begin():
        cities = {c.slug: c.id for c in (await session.scalars(select(City))).all()}
        admin = await session.scalar(select(StaffUser).where(StaffUser.email == ADMIN))
        _row, TOKENS["admin"] = await create_token(session, admin, "e2e")
        await create_user(
            session, WIEN_EDITOR, "Wim Wien", "city_editor", PASSWORD, city_id=cities["wien"]
        )
        await create_user(
            session,
            DORTMUND_EDITOR,
            "Dora Dortmund",
            "city_editor",
            PASSWORD,
            city_id=cities["dortmund"],
        )
        # A rating from earlier this week, so that the Ratings page has its tables.
        dortmund = await session.get(City, cities["dortmund"])
        await record_feedback(
            session, dortmund, "uk", "registration", [], True, None, datetime.now(UTC)
        )
    await dispose_engines()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("console"), CONSOLE_SECRET="console-e2e") as stack:
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.console",
                "create-admin",
                "--email",
                ADMIN,
                "--name",
                "Ada Admin",
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            env=stack.env,
            cwd=REPO,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        assert "Admin account created" in made.stdout
        asyncio.run(add_editors(stack))
        yield stack


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


def console(
    browser: Browser, stack: Stack, email: str, width: int = 1280, language: str = "en"
) -> Page:
    """A new browser (its own cookies) logged in to the console as `email`, with the
    browser's language `language` (the console's texts follow it)."""
    t = functools.partial(console_text, language)
    locale = {"en": "en-GB", "de": "de-DE"}[language]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(f"{stack.web}/console")
    expect(page).to_have_url(f"{stack.web}/console/login?next=/console")
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", name=t("Entries to review"))).to_be_visible()
    return page


def ask_widget(browser: Browser, stack: Stack) -> tuple[Page, Locator]:
    """A new widget conversation asking QUESTION: the page and the first office's card."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page.goto(f"{stack.web}/?city=dortmund")
    page.locator(f"{WIDGET} .launcher").click()
    page.locator(f"{WIDGET} #message").fill(QUESTION)
    page.locator(f"{WIDGET} #message").press("Enter")
    card = page.locator(f"{WIDGET} .card").first
    card.wait_for(timeout=ANSWER_MS)
    return page, card


def first_office(browser: Browser, stack: Stack) -> tuple[str, str]:
    """Ask the widget a new question: the first office's name and its card's text."""
    page, card = ask_widget(browser, stack)
    name, text = card.locator("h3").inner_text(), card.inner_text()
    page.context.close()
    return name, text


def open_entry(page: Page, stack: Stack, name: str) -> None:
    page.goto(f"{stack.web}/console/cities/dortmund/services")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def test_new_opening_hours_reach_the_assistants_next_answer(browser, stack):
    name, before = first_office(browser, stack)
    assert "23:59" not in before
    page = console(browser, stack, ADMIN)
    open_entry(page, stack, name)
    # Clear the weekly grid, then one period: every day, 00:00 to 23:59, walk-in.
    for box in page.locator("input[type=checkbox][name^='schedules-']").all():
        box.uncheck()
    for time in page.locator("input[type=time][name^='schedules-']").all():
        time.fill("")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        page.locator("#schedules-0").get_by_label(day).check()
    page.locator("#schedules-0-opens_at").fill("00:00")
    page.locator("#schedules-0-closes_at").fill("23:59")
    page.locator("#schedules-0-mode").select_option("walk_in")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.screenshot(path=SCREENSHOTS / "console-saved-1280.png", full_page=True)

    again, after = first_office(browser, stack)
    assert again == name
    assert "23:59" in after, after


def test_a_city_editor_is_refused_another_citys_entry(browser, stack):
    admin = console(browser, stack, ADMIN)
    admin.goto(f"{stack.web}/console/cities/dortmund/services")
    link = admin.get_by_role("link", name="MigraDo", exact=False).first.get_attribute("href")
    wim = console(browser, stack, WIEN_EDITOR)
    response = wim.goto(f"{stack.web}{link}")
    assert response.status == 403
    expect(wim.locator("body")).to_contain_text("not yours to edit")
    wim.goto(f"{stack.web}/console/cities/dortmund/services")
    expect(wim.locator("body")).to_contain_text("this city is not yours to edit")


def test_two_editors_saving_the_same_entry(browser, stack):
    ada, dora = console(browser, stack, ADMIN), console(browser, stack, DORTMUND_EDITOR)
    for page in (ada, dora):
        page.goto(f"{stack.web}/console/cities/dortmund/services")
        page.get_by_role("link", name="MigraDo", exact=False).first.click()
    ada.locator("#en-name").fill("MigraDo (Ada's wording)")
    ada.get_by_role("button", name="Save", exact=True).click()
    expect(ada.get_by_role("status")).to_contain_text("Saved.")
    dora.locator("#en-name").fill("MigraDo (Dora's wording)")
    dora.get_by_role("button", name="Save", exact=True).click()
    expect(dora.get_by_role("alert")).to_contain_text("saved this entry while you were editing it")
    expect(dora.locator("#en-name")).to_have_value("MigraDo (Dora's wording)")  # not lost
    dora.goto(dora.url)  # opening the entry again (a GET)
    expect(dora.locator("#en-name")).to_have_value("MigraDo (Ada's wording)")


@pytest.mark.parametrize(
    "path",
    ["/console/login", "/console", "/console/services/{id}", "/console/inbox", "/console/feedback"],
)
def test_the_console_pages_pass_an_accessibility_check_on_a_phone(browser, stack, path):
    page = console(browser, stack, DORTMUND_EDITOR, width=390)
    if "{id}" in path:
        page.goto(f"{stack.web}/console/cities/dortmund/services")
        href = page.get_by_role("link", name="MigraDo", exact=False).first.get_attribute("href")
        path = href
    if path == "/console/login":
        page = page.context.browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{stack.web}{path}")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["nodes"][0]["html"]) for v in serious]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"


def api(stack: Stack, method: str, path: str, body: dict | None = None) -> dict:
    request = Request(
        f"{stack.web}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"},
    )
    with urlopen(request) as response:
        return json.load(response)


def test_script_in_an_entry_is_shown_as_text_in_the_widget_and_the_rest_answer(browser, stack):
    name, _ = first_office(browser, stack)
    [found] = [s for s in api(stack, "GET", "/api/cities/dortmund/services") if s["name"] == name]
    document = api(stack, "GET", f"/api/services/{found['id']}")
    attack = '<img src=x onerror="window.__xss=1">Bürgerdienste <script>window.__xss=2</script>'
    entry = document["entry"]
    entry["name"]["de"] = attack
    entry["description"]["de"] = attack
    api(
        stack,
        "PUT",
        f"/api/services/{found['id']}",
        {"version": document["version"], "entry": entry},
    )

    page, card = ask_widget(browser, stack)
    expect(card.locator("h3")).to_have_text(attack)
    assert page.evaluate("window.__xss") is None
    assert page.locator(f"{WIDGET} .card img").count() == 0

    rest = Request(
        f"{stack.rasa}/webhooks/rest/webhook",
        data=json.dumps(
            {"sender": "xss-check", "message": QUESTION, "metadata": {"city": "dortmund"}}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urlopen(rest, timeout=60) as response:
        texts = [m.get("text", "") for m in json.load(response)]
    assert any(attack in text for text in texts), texts


def widget_user(browser: Browser, stack: Stack, locale: str) -> Page:
    """A phone-sized page of Dortmund's site with the widget open, in `locale`."""
    user = browser.new_page(viewport={"width": 390, "height": 844}, locale=locale)
    user.goto(f"{stack.web}/?city=dortmund")
    user.locator(f"{WIDGET} .launcher").click()
    return user


def say(user: Page, text: str) -> None:
    user.locator(f"{WIDGET} #message").fill(text)
    user.locator(f"{WIDGET} #message").press("Enter")


def choice(user: Page, code: str, lang: str) -> Locator:
    """The widget's button for the choice `code` (bot/i18n/labels.py) in `lang`."""
    return user.locator(f"{WIDGET} .choice", has_text=gettext(lang, CHOICES[code][0]))


def test_an_arabic_user_rates_an_answer_asks_for_a_person_and_staff_answer_in_german(
    browser, stack
):
    """The issue's walk-through: Arabic in the widget, German in the console, a ready-made
    answer that arrives in Arabic, marked as the team's; the rating is counted."""
    user = widget_user(browser, stack, "ar")
    say(user, "أبحث عن شقة في دورتموند")
    choice(user, "not_helpful", "ar").wait_for(timeout=ANSWER_MS)
    user.screenshot(path=SCREENSHOTS / "feedback-arabic-answer-390.png")
    choice(user, "not_helpful", "ar").click()
    choice(user, "human", "ar").wait_for(timeout=ANSWER_MS)  # "not helpful": a person
    user.screenshot(path=SCREENSHOTS / "feedback-arabic-not-helpful-390.png")
    choice(user, "human", "ar").click()
    choice(user, "back_to_assistant", "ar").wait_for(timeout=ANSWER_MS)
    told = user.locator(f"{WIDGET} .message.assistant").all_inner_texts()
    assert any("112" in text for text in told), told  # not for emergencies: the numbers
    user.screenshot(path=SCREENSHOTS / "handoff-arabic-asked-390.png")

    t = functools.partial(console_text, "de")
    staff = console(browser, stack, DORTMUND_EDITOR, language="de")
    staff.goto(f"{stack.web}/console/inbox")
    staff.locator("table.list a").first.click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Arabisch")
    expect(staff.locator("dl.facts")).to_contain_text("Wohnen")  # the topic, in German
    staff.get_by_role("button", name=t("Take this conversation")).click()
    interpreter = PHRASES["interpreter"][0]
    staff.get_by_role("button", name=f"{t('Send')}: {gettext('de', interpreter)}").click()
    expect(staff.get_by_role("status")).to_contain_text(t("Sent."))
    staff.screenshot(path=SCREENSHOTS / "handoff-console-case-de-1280.png", full_page=True)

    answer = user.locator(f"{WIDGET} .message.staff", has_text=gettext("ar", interpreter))
    answer.wait_for(timeout=ANSWER_MS)
    expect(answer).to_contain_text(gettext("ar", FROM_STAFF))
    user.screenshot(path=SCREENSHOTS / "handoff-arabic-answered-390.png")

    staff.goto(f"{stack.web}/console/feedback")
    expect(staff.locator("table.ratings").first).to_contain_text("Wohnen")
    expect(staff.locator("ul.gaps")).to_contain_text("أبحث عن شقة في دورتموند")
    staff.screenshot(path=SCREENSHOTS / "feedback-console-de-1280.png", full_page=True)


def test_a_german_user_talks_to_a_person_and_goes_back_to_the_assistant(browser, stack):
    user = widget_user(browser, stack, "de")
    user.locator(f"{WIDGET} .person").click()  # the widget's menu: "Talk to a person"
    choice(user, "back_to_assistant", "de").wait_for(timeout=ANSWER_MS)
    told = " ".join(user.locator(f"{WIDGET} .message.assistant").all_inner_texts())
    assert "110" in told and "112" in told, told  # police and ambulance in Germany
    user.screenshot(path=SCREENSHOTS / "handoff-german-asked-390.png")
    say(user, "Ich brauche Hilfe mit dem Jobcenter-Brief")
    user.locator(f"{WIDGET} .message.assistant").last.wait_for(timeout=ANSWER_MS)

    staff = console(browser, stack, DORTMUND_EDITOR)
    staff.goto(f"{stack.web}/console/inbox")
    staff.locator("table.list a").first.click()
    expect(staff.locator("ol.transcript")).to_contain_text("Jobcenter-Brief")
    staff.get_by_label("Your answer").fill("Guten Tag, hier ist das Team von MigraDo.")
    staff.get_by_role("button", name="Send answer", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text("Sent.")

    answer = user.locator(f"{WIDGET} .message.staff", has_text="hier ist das Team von MigraDo")
    answer.wait_for(timeout=ANSWER_MS)
    expect(answer).to_contain_text(gettext("de", FROM_STAFF))
    user.screenshot(path=SCREENSHOTS / "handoff-german-answered-390.png")
    choice(user, "back_to_assistant", "de").click()
    back = user.locator(f"{WIDGET} .message.assistant").last
    expect(back).to_contain_text(gettext("de", RESPONSES["utter_handoff_ended"]))
    user.screenshot(path=SCREENSHOTS / "handoff-german-back-390.png")

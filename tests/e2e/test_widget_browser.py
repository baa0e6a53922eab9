"""The website widget in real Chromium, on the demo city page, against the real Rasa server,
action server and web app.

Needs Debian's chromium (scripts/system-packages) and the trained model. Screenshots and
the accessibility reports go to reports/screenshots/ and reports/ (test artifacts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.request import urlopen

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from bot.channels.pseudonyms import sender_id
from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from tests.support.browser import chromium
from tests.support.stack import REPO, Stack, running_stack

pytestmark = pytest.mark.e2e

SECRET = "widget-browser-tests"
SCREENSHOTS = REPO / "reports" / "screenshots"
RESPONSES = load_responses()
WIDGET = "#welcome-desk-widget"
REGISTRATION_DE = "Wo kann ich mich in Dortmund anmelden?"
REGISTRATION_AR = "أين يمكنني تسجيل عنواني في دورتموند؟"
WOMEN_COUNSELLING_AR = "استشارة للنساء في فيينا"  # counselling for women in Vienna
ANSWER_SECONDS = 60_000  # ms: the first answers wait for the model to warm up


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("widget"), CHANNEL_SECRET=SECRET) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    # After the stack: Playwright's sync API keeps an event loop running, so no asyncio.run.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


def open_page(
    browser: Browser,
    stack: Stack,
    city: str = "dortmund",
    width: int = 1280,
    height: int = 800,
    locale: str = "de-DE",
) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.goto(f"{stack.web}/?city={city}")
    expect(page.locator(f"{WIDGET} .launcher")).to_be_visible()
    return page


def widget(page: Page, selector: str):
    return page.locator(f"{WIDGET} {selector}")


def open_panel(page: Page) -> None:
    widget(page, ".launcher").click()
    expect(widget(page, ".panel")).to_be_visible()


def ask(page: Page, text: str) -> None:
    """Write `text`, send it, and wait until the assistant's answer is shown."""
    before = widget(page, ".message.assistant").count()
    widget(page, "#message").fill(text)
    widget(page, "#message").press("Enter")
    widget(page, ".message.assistant").nth(before).wait_for(timeout=ANSWER_SECONDS)
    expect(widget(page, ".typing")).to_be_hidden(timeout=ANSWER_SECONDS)


def answers(page: Page) -> list[str]:
    """The assistant's messages, after the panel's own greeting."""
    shown = widget(page, ".message.assistant > .text, .message.assistant > .card")
    return shown.all_inner_texts()[1:]


def active_element_in_widget(page: Page) -> str | None:
    return page.evaluate(
        f"""() => {{
            const active = document.querySelector("{WIDGET}").shadowRoot.activeElement;
            return active && (active.id || active.className);
        }}"""
    )


def conversation_id(page: Page) -> str:
    return page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find(
                (k) => k.startsWith("welcome-desk:") && !k.includes(":texts:"));
            return JSON.parse(localStorage.getItem(key)).conversation;
        }"""
    )


def user_messages_rasa_got(stack: Stack, conversation: str) -> list[str]:
    """What the Rasa tracker recorded from this widget conversation."""
    sender = sender_id(SECRET.encode(), "widget", conversation)
    with urlopen(f"{stack.rasa}/conversations/{sender}/tracker") as response:
        events = json.load(response)["events"]
    return [event["text"] for event in events if event["event"] == "user"]


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


# Where "+43", "1" and "71719" of the line's "+43 1 71719" are on the screen; with `strip`,
# in a copy of the line without its bidi isolates (U+2068, U+2069), measured and removed.
EMERGENCY_NUMBER_ON_SCREEN = """(line, strip) => {
    if (strip) {
        line = line.parentNode.appendChild(line.cloneNode(true));
        line.textContent = line.textContent.replace(/[\\u2068\\u2069]/g, "");
    }
    const text = line.firstChild;
    const start = text.data.indexOf("+43 1 71719");
    const box = (from, to) => {
        const range = document.createRange();
        range.setStart(text, start + from);
        range.setEnd(text, start + to);
        const { left, right, top } = range.getBoundingClientRect();
        return { left, right, top };
    };
    const parts = [box(0, 3), box(4, 5), box(6, 11)];
    if (strip) line.remove();
    return parts;
}"""


def test_a_german_registration_question_is_answered_with_the_offices(browser, stack):
    page = open_page(browser, stack)
    open_panel(page)
    ask(page, REGISTRATION_DE)
    replies = answers(page)
    assert replies[0].endswith(
        "Diese Stellen in Dortmund helfen Ihnen beim Thema Wohnung anmelden:"
    )
    assert any("Bürgerdienste" in reply for reply in replies[1:])
    screenshot(page, "german-registration-1280")


def test_the_german_office_card_has_call_and_map_links_and_quick_replies(browser, stack):
    page = open_page(browser, stack, width=390, height=844)
    open_panel(page)
    ask(page, REGISTRATION_DE)
    cards = widget(page, ".card")
    expect(cards.first).to_be_visible()
    assert cards.count() == 3
    # Every office has a map link, and each with a phone in the directory a call link (in
    # the sample data only the foreigners' office has one, +49 231 5027132).
    for index in range(3):
        card = cards.nth(index)
        assert card.locator("a[href^='https://www.openstreetmap.org/']").count() == 1
        assert card.locator("a[href^='tel:']").count() == card.locator(".phone").count()
    expect(widget(page, ".card a[href^='tel:']")).to_have_attribute("href", "tel:+492315027132")
    # Under the offices: the five follow-up questions, then "Helpful" / "Not helpful".
    rows = widget(page, ".choices")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".choice")).to_have_count(5)
    expect(rows.last.locator(".choice")).to_have_text(["Hilfreich", "Nicht hilfreich"])


def test_an_office_card_shows_the_short_facts_first_and_the_rest_under_more(browser, stack):
    page = open_page(browser, stack, width=390, height=844)
    open_panel(page)
    ask(page, REGISTRATION_DE)
    shown = widget(page, ".card").first
    expect(shown.locator("h3")).to_be_visible()
    expect(shown.locator(".status")).to_be_visible()
    expect(shown.locator(".checked")).to_be_hidden()  # one tap away
    shown.get_by_role("button", name="Mehr").click()
    expect(shown.locator(".checked")).to_be_visible()
    expect(shown.locator(".checked")).to_contain_text("Geprüft am")
    expect(shown.get_by_role("button", name="Weniger")).to_have_attribute("aria-expanded", "true")
    expect(widget(page, ".choice").first).to_have_text("Öffnungszeiten")
    screenshot(page, "card-more-390")


def test_arabic_turns_the_panel_right_to_left_with_the_answers_on_the_right(browser, stack):
    page = open_page(browser, stack, width=390, height=844, locale="ar")
    open_panel(page)
    panel = widget(page, ".panel")
    expect(panel).to_have_attribute("dir", "rtl")
    expect(widget(page, ".send")).to_have_text("إرسال")
    ask(page, REGISTRATION_AR)
    box = widget(page, ".messages").bounding_box()
    mine = widget(page, ".message.user").first.bounding_box()
    theirs = widget(page, ".message.assistant").nth(1).bounding_box()
    list_right = box["x"] + box["width"]
    assert list_right - (theirs["x"] + theirs["width"]) < 24  # the assistant on the right
    assert mine["x"] - box["x"] < 24  # the user on the left
    screenshot(page, "arabic-registration-390")


def test_the_womens_emergency_number_reads_plus_43_first_in_an_arabic_card(browser, stack):
    """An Arabic user in Vienna reads "+43 1 71719" in the Frauenzentrum card, not "71719 1 43+"."""
    page = open_page(browser, stack, city="wien", width=390, height=844, locale="ar")
    open_panel(page)
    ask(page, WOMEN_COUNSELLING_AR)  # "for women": the women's centre is in the first answer
    card = widget(page, ".card").filter(has_text="Frauenzentrum der Stadt Wien")
    expect(card).to_be_visible()
    card.get_by_role("button", name="المزيد").click(timeout=ANSWER_SECONDS)  # "More"
    expect(widget(page, ".typing")).to_be_hidden(timeout=ANSWER_SECONDS)
    note = card.locator(".hours-note")  # "... women's emergency line, 24 hours: +43 1 71719."
    expect(note).to_contain_text("\u2068+43 1 71719\u2069")
    note.scroll_into_view_if_needed()
    plus_43, one, number = note.evaluate(EMERGENCY_NUMBER_ON_SCREEN, False)
    assert plus_43["top"] == one["top"] == number["top"]  # on one line
    assert plus_43["right"] <= one["left"] and one["right"] <= number["left"]
    # The check can fail: without the isolates the same line shows "71719 1 43+".
    plus_43, one, number = note.evaluate(EMERGENCY_NUMBER_ON_SCREEN, True)
    assert number["right"] <= one["left"] and one["right"] <= plus_43["left"]
    card.screenshot(path=SCREENSHOTS / "arabic-emergency-number-390.png")


def test_picking_ukrainian_in_the_menu_gives_the_next_answer_in_ukrainian(browser, stack):
    page = open_page(browser, stack)
    open_panel(page)
    widget(page, "select").select_option("uk")
    expect(widget(page, ".send")).to_have_text("Надіслати")
    expect(widget(page, ".panel")).to_have_attribute("lang", "uk")
    ask(page, "Hallo")
    assert answers(page)[-1].endswith(gettext("uk", RESPONSES["utter_greet"]))
    screenshot(page, "ukrainian-menu-1280")


def test_a_message_sent_while_offline_is_answered_once_when_back_online(browser, stack):
    page = open_page(browser, stack)
    open_panel(page)
    conversation = conversation_id(page)
    page.context.set_offline(True)
    widget(page, "#message").fill("Hallo")
    widget(page, "#message").press("Enter")
    expect(widget(page, ".notice")).to_be_visible()
    expect(widget(page, ".message.user.pending")).to_have_count(1)
    screenshot(page, "offline-1280")
    page.context.set_offline(False)
    widget(page, ".message.assistant").nth(1).wait_for(timeout=ANSWER_SECONDS)
    expect(widget(page, ".notice")).to_be_hidden()
    expect(widget(page, ".message.user")).to_have_count(1)
    assert answers(page) == [gettext("de", RESPONSES["utter_greet"])]
    assert user_messages_rasa_got(stack, conversation) == ["Hallo"]


def test_an_answer_lost_on_the_way_back_is_fetched_again_not_asked_again(browser, stack):
    page = open_page(browser, stack)
    open_panel(page)
    conversation = conversation_id(page)
    posts: list[str] = []

    def lose_the_first_answer(route):
        posts.append(json.loads(route.request.post_data)["id"])
        if len(posts) == 1:
            route.fetch()  # the web app answers, but the phone never gets it
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/channels/widget/messages", lose_the_first_answer)
    ask(page, "Hallo")
    assert len(posts) == 2 and posts[0] == posts[1]  # sent again with the same id
    assert answers(page) == [gettext("de", RESPONSES["utter_greet"])]
    assert user_messages_rasa_got(stack, conversation) == ["Hallo"]


def test_the_conversation_is_kept_across_a_reload_and_start_over_clears_it(browser, stack):
    page = open_page(browser, stack)
    open_panel(page)
    ask(page, "Hallo")
    conversation = conversation_id(page)
    page.reload()
    expect(widget(page, ".panel")).to_be_visible()  # it was open: it stays open
    expect(widget(page, ".message.user")).to_have_text(["Sie: Hallo"])
    assert answers(page) == [gettext("de", RESPONSES["utter_greet"])]
    assert conversation_id(page) == conversation
    widget(page, ".start-over").click()
    expect(widget(page, ".message.user")).to_have_count(0)
    assert conversation_id(page) != conversation
    assert active_element_in_widget(page) == "message"


def test_a_conversation_untouched_for_31_days_is_forgotten_in_the_browser(browser, stack):
    """As the server forgets it after RETENTION_DAYS (30), so does the user's browser."""
    page = open_page(browser, stack)
    open_panel(page)
    ask(page, "Hallo")
    conversation = conversation_id(page)
    page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find(
                (k) => k.startsWith("welcome-desk:") && !k.includes(":texts:"));
            const state = JSON.parse(localStorage.getItem(key));
            state.savedAt = Date.now() - 31 * 24 * 60 * 60 * 1000;
            localStorage.setItem(key, JSON.stringify(state));
        }"""
    )
    page.reload()
    expect(widget(page, ".launcher")).to_be_visible()
    open_panel(page)
    expect(widget(page, ".message.user")).to_have_count(0)
    ask(page, "Hallo")
    assert conversation_id(page) != conversation


def test_the_widget_works_by_keyboard_and_escape_returns_to_the_launcher(browser, stack):
    page = open_page(browser, stack)
    widget(page, ".launcher").focus()
    page.keyboard.press("Enter")
    expect(widget(page, ".panel")).to_be_visible()
    assert active_element_in_widget(page) == "message"
    page.keyboard.type("Hallo")
    page.keyboard.press("Enter")
    widget(page, ".message.assistant").nth(1).wait_for(timeout=ANSWER_SECONDS)
    assert active_element_in_widget(page) == "message"  # ready for the next question
    page.keyboard.press("Shift+Tab")  # the list of messages can be scrolled by keyboard
    assert active_element_in_widget(page) == "messages"
    page.keyboard.press("Escape")
    expect(widget(page, ".panel")).to_be_hidden()
    assert "launcher" in active_element_in_widget(page)
    # One polite live region, apart from the list of messages, read the answer out once.
    assert widget(page, "[aria-live]").count() == 1
    expect(widget(page, "[aria-live=polite]")).to_have_text(gettext("de", RESPONSES["utter_greet"]))
    assert widget(page, ".messages").get_attribute("aria-live") is None


@pytest.mark.parametrize("width", [320, 1280])
def test_the_open_widget_has_no_accessibility_violations(browser, stack, width):
    page = open_page(browser, stack, width=width, height=800)
    open_panel(page)
    ask(page, REGISTRATION_DE)
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    report = REPO / "reports" / f"axe-widget-{width}.json"
    report.write_text(json.dumps(results.response["violations"], indent=2, ensure_ascii=False))
    screenshot(page, f"axe-{width}")
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(
    ("language", "question"), [("de", REGISTRATION_DE), ("ar", REGISTRATION_AR)]
)
def test_the_first_office_of_a_registration_answer_fits_a_phone_screen(
    browser, stack, language, question
):
    page = open_page(browser, stack, width=390, height=844, locale=language)
    open_panel(page)
    ask(page, question)
    offices = widget(page, ".card")
    first = offices.first if offices.count() else widget(page, ".message.assistant").nth(2)
    box = first.bounding_box()
    shown = widget(page, ".messages").bounding_box()  # above the text field
    measured = {
        "language": language,
        "viewport": [390, 844],
        "rendered_as": "card" if offices.count() else "text",
        "top": round(box["y"]),
        "bottom": round(box["y"] + box["height"]),
        "height": round(box["height"]),
        "messages_area": [round(shown["y"]), round(shown["y"] + shown["height"])],
    }
    path = REPO / "reports" / "widget-first-answer.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    found[language] = measured
    path.write_text(json.dumps(found, indent=2))
    screenshot(page, f"first-answer-{language}-390")
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844, measured
    assert box["y"] >= shown["y"] and box["y"] + box["height"] <= shown["y"] + shown["height"]

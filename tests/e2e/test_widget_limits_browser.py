"""What a widget user sees when the web app refuses a message, in real Chromium: writing
faster than the rate limit allows (429), and a message larger than the web app takes (413).
The web app is the project's own, started in this process with a limit of two messages a
minute; Rasa is played by a stand-in. Needs Debian's chromium (scripts/system-packages)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from playwright.sync_api import Page, expect

from bot.channels.messages import TOO_MANY_MESSAGES
from bot.channels.widget_texts import WIDGET_TEXTS
from bot.i18n.catalog import gettext
from bot.web.app import create_app
from tests.support.browser import chromium
from tests.support.rasa_rest import RasaRestStandIn
from tests.support.stack import free_port, sqlite_url

pytestmark = pytest.mark.e2e

WIDGET = "#welcome-desk-widget"
START_SECONDS = 30


@pytest.fixture
def web_app(sample_database_file, tmp_path, monkeypatch) -> Iterator[str]:
    """The web app on a free loopback port, in a thread of its own; its address."""
    shutil.copy(sample_database_file, tmp_path / "directory.db")
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", sqlite_url(tmp_path / "directory.db"))
    monkeypatch.setenv("CHANNEL_SECRET", "widget-limit-tests")
    monkeypatch.setenv("MESSAGES_PER_MINUTE_PER_SENDER", "2")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    rasa, port = RasaRestStandIn(), free_port()
    runner = web.AppRunner(create_app({"rasa_url": rasa.url}))

    async def start() -> None:
        await rasa.__aenter__()
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    async def stop() -> None:
        await runner.cleanup()
        await rasa.__aexit__()

    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(START_SECONDS)
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(START_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_SECONDS)
        loop.close()


def widget(page: Page, selector: str):
    return page.locator(f"{WIDGET} {selector}")


def write(page: Page, text: str) -> None:
    widget(page, "#message").fill(text)
    widget(page, "#message").press("Enter")


def test_a_user_who_writes_too_fast_is_asked_in_german_to_wait_and_can_send_it_again(web_app):
    with chromium() as browser:
        page = browser.new_context(locale="de-DE").new_page()
        page.goto(f"{web_app}/?city=dortmund")
        widget(page, ".launcher").click()
        for text in ("Hallo", "Wohnung"):
            write(page, text)
            expect(widget(page, ".message.assistant .text").last).to_have_text(f"You said: {text}")
        write(page, "Und jetzt?")
        problem = widget(page, ".message.error")
        expect(problem.locator(".text")).to_have_text(gettext("de", TOO_MANY_MESSAGES))
        expect(problem.locator("button")).to_have_text(gettext("de", WIDGET_TEXTS["retry"]))
        expect(widget(page, ".typing")).to_be_hidden()


def test_a_message_the_web_app_finds_too_large_is_shown_as_too_long(web_app):
    with chromium() as browser:
        page = browser.new_context(locale="de-DE").new_page()
        # As the web app answers a body over its limit, before it reads it.
        page.route(
            "**/channels/widget/messages",
            lambda route: route.fulfill(
                status=413,
                content_type="application/json",
                headers={"Access-Control-Allow-Origin": "*"},
                body='{"error": "request entity too large", "detail": "..."}',
            ),
        )
        page.goto(f"{web_app}/?city=dortmund")
        widget(page, ".launcher").click()
        write(page, "Hallo")
        too_long = gettext("de", WIDGET_TEXTS["too_long"]).format(max="2.000")
        expect(widget(page, ".message.error .text")).to_have_text(too_long)

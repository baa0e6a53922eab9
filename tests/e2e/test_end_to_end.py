"""End to end: the real Rasa server, action server and web app, talked to over REST.

Needs the trained model (models/welcome-desk.tar.gz; `make train`). The three processes run
on free ports with a private directory database and tracker store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest
import yaml

from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.places import find_city
from bot.directory.ranking import services_for_topic
from bot.eligibility import Profile
from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from bot.i18n.service_card import render_service_card
from bot.i18n.service_details import render_service_details
from bot.needs import need_in_text
from bot.web.nlg import render_text
from tests.support.stack import (
    REPO,
    Stack,
    running_stack,
    sqlite_url,
)

RESPONSES = load_responses()
FSI, PDI = "\u2068", "\u2069"
# What the actions rank with for a user who has said nothing about themselves.
NO_PROFILE = Profile()

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e")) as stack:
        yield stack


async def say(stack: Stack, text, sender: str | None = None, **metadata) -> list[dict]:
    body = {"sender": sender or str(uuid.uuid4()), "message": text}
    if metadata:
        body["metadata"] = metadata
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.rasa}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()


def joined(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


async def ranked_in_dortmund(stack: Stack, topic: str, language: str, question: str) -> list:
    """The offices a topic question in Dortmund gets, ranked as the actions rank them right
    now (no profile; the need the question names, bot/needs.py)."""
    sessions = session_maker(get_engine(sqlite_url(stack.directory_db)))
    async with sessions() as session:
        city = await find_city(session, "Dortmund")
        answers = await services_for_topic(
            session,
            city,
            topic,
            language,
            datetime.now(UTC),
            profile=NO_PROFILE,
            need=need_in_text(topic, question),
        )
    await dispose_engines()
    return answers


async def expected_status_line(
    stack: Stack, topic: str, language: str, question: str
) -> tuple[str, str]:
    """The best office's name and its opening line, as the directory says right now."""
    (best, *_) = await ranked_in_dortmund(stack, topic, language, question)
    card = best.card()
    rendered = render_service_card(card, language)
    status = next(line for line in rendered.splitlines() if line.startswith("🕒"))
    return card["name"], status


async def expected_hours(
    stack: Stack, topic: str, language: str, question: str, option: int
) -> str:
    """The answer to "is it open tomorrow?" about the `option`-th office (0: the first) of a
    topic answer in Dortmund, as the directory says right now."""
    answers = await ranked_in_dortmund(stack, topic, language, question)
    details = answers[option].details()
    return render_service_details({"kind": "hours", "services": [details]}, language)


async def chat(stack: Stack, body: dict) -> dict:
    """What the website widget gets from `POST /channels/widget/messages`."""
    body = {"conversation": widget_conversation(), **body, "id": uuid.uuid4().hex}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.web}/channels/widget/messages", json=body) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "application/json"
            return await response.json()


def widget_conversation() -> str:
    return f"widget-{uuid.uuid4().hex[:16]}"


def texts(body: dict) -> list[str]:
    return [reply["text"] for reply in body["replies"]]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Wo kann ich mich in Dortmund anmelden?", "de"),
        ("Where can I register my address in Dortmund?", "en"),
    ],
)
async def test_a_registration_question_names_the_office_and_todays_status(stack, text, language):
    replies = await say(stack, text)
    answer = joined(replies)
    name, status = await expected_status_line(stack, "registration", language, text)
    assert name in answer
    assert status in answer
    assert "📍" in answer  # the address
    greeting = "Diese Stellen" if language == "de" else "These offices"
    assert greeting in answer


async def test_the_parse_result_carries_the_language(stack):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.rasa}/model/parse", json={"text": "Ich suche eine Wohnung in Dortmund"}
        ) as response:
            parsed = await response.json()
    assert parsed["intent"]["name"] == "ask_housing"
    assert parsed["language"]["code"] == "de"
    assert 0 < parsed["language"]["confidence"] <= 1


async def test_the_city_is_asked_and_the_question_answered_after(stack):
    sender = str(uuid.uuid4())
    first = joined(await say(stack, "I am looking for a German course", sender))
    assert "Which city" in first
    second = joined(await say(stack, "Vienna", sender))
    assert "Vienna" in second and "📍" in second


async def test_a_short_reply_keeps_the_language(stack):
    sender = str(uuid.uuid4())
    await say(stack, "Ich suche eine Wohnung in Dortmund", sender)
    replies = await say(stack, "ok", sender)
    assert replies and "What else" not in joined(replies)


@pytest.mark.parametrize(
    "message",
    ["", "   ", "Wohnung " * 2500, "😀🙏🏽🇺🇦", "hallo\x00\x07\x1b[31m", "أين 登记 Anmeldung?"],
    ids=["empty", "spaces", "20000-chars", "emoji", "control-chars", "mixed-scripts"],
)
async def test_bad_input_gets_a_reply_and_nothing_dies(stack, message):
    replies = await say(stack, message)
    assert all(stack.alive().values())
    if message.strip():
        assert replies and all(r.get("text") for r in replies if "text" in r)


async def test_invalid_json_is_refused_with_400(stack):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.rasa}/webhooks/rest/webhook",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 400
    assert all(stack.alive().values())


async def test_a_web_page_elsewhere_may_not_call_rasas_api(stack):
    """No wildcard CORS: a page open in a browser on this machine cannot read Rasa's API."""
    origin = {"Origin": "https://some-other-site.example"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.rasa}/status", headers=origin) as response:
            assert "Access-Control-Allow-Origin" not in response.headers
        preflight = {**origin, "Access-Control-Request-Method": "POST"}
        async with http.options(f"{stack.rasa}/model/parse", headers=preflight) as response:
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_number_instead_of_text_gets_no_reply_and_the_conversation_goes_on(stack):
    # Rasa's REST channel catches the error of handling a non-text message, logs it and
    # answers 200 with no messages (rasa/core/channels/rest.py).
    sender = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": 12345}
        ) as response:
            assert response.status == 200
            assert await response.json() == []
    assert all(stack.alive().values())
    replies = await say(stack, "Hallo", sender)
    assert [reply["text"] for reply in replies] == [gettext("de", RESPONSES["utter_greet"])]


async def test_the_widget_gets_the_offices_for_a_german_question(stack):
    question = "Wo kann ich mich in Dortmund anmelden?"
    body = await chat(stack, {"text": question})
    name, status = await expected_status_line(stack, "registration", "de", question)
    replies = texts(body)
    assert replies[0] == "Diese Stellen in Dortmund helfen Ihnen beim Thema Wohnung anmelden:"
    assert replies[1].splitlines()[0] == name  # the best office first, with its status
    assert status in replies[1].splitlines()


async def test_the_language_picked_in_the_widget_is_used_for_the_answer(stack):
    english = await chat(stack, {"text": "hello"})
    assert english == {"replies": [{"text": RESPONSES["utter_greet"]}]}
    ukrainian = await chat(stack, {"text": "hello", "language": "uk"})
    assert ukrainian == {"replies": [{"text": gettext("uk", RESPONSES["utter_greet"])}]}
    assert texts(ukrainian)[0].startswith("Вітаю!")


async def test_the_widget_gets_a_text_for_every_reply(stack):
    # widget.js shows each of `replies` as one bubble, or as a card when it has one.
    body = await chat(stack, {"text": "Where can I find a German course in Vienna?"})
    assert list(body) == ["replies"]
    assert len(body["replies"]) >= 2  # the introduction and at least one office
    assert all(isinstance(text, str) and text.strip() for text in texts(body))


async def test_ukrainian_switches_to_german_on_request_and_back_by_writing(stack):
    """Every reply is in the language the newcomer is using at that turn."""
    sender = str(uuid.uuid4())
    first = joined(await say(stack, "Де мені зареєструвати адресу в Дортмунді?", sender))
    assert "Ці установи в місті" in first and "Перевірено" in first
    assert "Geprüft" not in first and "Checked" not in first

    second = joined(await say(stack, "Deutsch bitte", sender))
    assert "ich schreibe auf Deutsch" in second

    third = joined(await say(stack, "Wo finde ich einen Deutschkurs?", sender))
    assert "Diese Stellen in Dortmund" in third and "Geprüft am" in third

    fourth = joined(await say(stack, "Де знайти лікаря, який говорить українською?", sender))
    assert "Перевірено" in fourth and "Geprüft" not in fourth


async def test_arabic_replies_keep_latin_names_readable(stack):
    replies = await say(stack, "أين يمكنني تسجيل عنواني في دورتموند؟")
    answer = joined(replies)
    assert "\u2068" in answer and "\u2069" in answer  # names and addresses isolated
    assert "📍" in answer


async def test_dari_is_answered_as_persian(stack):
    answer = joined(await say(stack, "من در ویانا زندگی می‌کنم و به کورس زبان آلمانی ضرورت دارم"))
    assert "تاریخ بررسی" in answer  # Persian "checked on"
    assert "Checked on" not in answer


async def test_somali_is_recognised_and_answered_in_english_and_german(stack):
    sender = str(uuid.uuid4())
    await say(stack, "Wien", sender)
    answer = joined(await say(stack, "Waxaan u baahanahay guri cusub, yaa i caawin kara?", sender))
    assert "I cannot write in Somali yet." in answer
    assert "Somali" in answer.split("I cannot write in Somali yet.", 1)[1]  # then in German


async def test_german_follow_up_questions_are_about_the_offices_just_shown(stack):
    sender = str(uuid.uuid4())
    question = "Wo kann ich mich in Dortmund anmelden?"
    first = joined(await say(stack, question, sender))
    offices = [line for line in first.splitlines() if line.startswith("Bürgerdienste")]
    assert offices, first

    where = joined(await say(stack, "wo ist das genau?", sender))
    assert "https://www.openstreetmap.org/" in where and "📍" in where

    second = joined(await say(stack, "die zweite bitte", sender))
    assert "Geprüft am" in second  # the full card of one office

    hours = joined(await say(stack, "hat das morgen offen?", sender))
    assert hours == await expected_hours(stack, "registration", "de", question, option=1)

    near = joined(await say(stack, "ich wohne in Hörde", sender))
    assert "Hörder Bahnhofstraße 16" in near.split("Geprüft am")[0]  # nearest office first
    distances = [line for line in near.splitlines() if line.startswith("👍")]
    assert distances == [
        "👍 Etwa 500 m entfernt",
        "👍 Etwa 3,6 km entfernt",
        "👍 Etwa 3,7 km entfernt",
    ]


async def test_persian_follow_ups_and_the_nearest_office_by_district(stack):
    sender = str(uuid.uuid4())
    first = joined(await say(stack, "در وین کجا ثبت نام آدرس کنم؟", sender))
    assert "تاریخ بررسی" in first
    cost = joined(await say(stack, "هزینه‌اش چقدر است؟", sender))
    assert "💶" in cost
    near = joined(await say(stack, "من در فاوریتن زندگی می‌کنم", sender))
    # The district as the directory names it, isolated in the right-to-left sentence.
    heading = near.splitlines()[0]
    assert f"{FSI}Favoriten{PDI}" in heading
    assert heading == render_text(
        RESPONSES["utter_nearest_offices"],
        "fa",
        {"topic": "registration", "place": "Favoriten"},
        {},
    )


async def test_a_position_shared_in_the_widget_finds_the_nearest_office(stack):
    conversation = widget_conversation()
    await chat(
        stack, {"conversation": conversation, "text": "Wo kann ich mich in Dortmund anmelden?"}
    )
    body = await chat(
        stack,
        {"conversation": conversation, "location": {"latitude": 51.5706, "longitude": 7.3893}},
    )
    answer = "\n".join(texts(body))
    assert "Am Amtshaus 1" in answer.split("Geprüft am")[0]  # Mengede's office first


def test_no_reply_in_the_conversations_above_was_the_apology(stack):
    """Runs last: the NLG logged no placeholder without a value for any reply above."""
    web_log = (stack.workdir / "web.log").read_text(errors="replace")
    assert "POST /nlg" in web_log
    assert "No value for the placeholder" not in web_log


def first_office_named(answer: str, city: str, language: str) -> str | None:
    """The data-file id of the office whose name comes first in `answer`."""
    data = yaml.safe_load((REPO / "data" / "directory" / f"{city}.yaml").read_text())
    found = [
        (answer.find(name), service["id"])
        for service in data["services"]
        if (name := service["name"].get(language)) and name in answer
    ]
    return min(found)[1] if found else None


# Four first questions (issue 10) in every language, with the offices that must come first.
SCHOOL = {
    "de": "Wie kann ich mein Kind in Dortmund in der Schule anmelden?",
    "en": "How can I enrol my child in a school in Dortmund?",
    "uk": "Як записати дитину до школи в Дортмунді?",
    "ru": "Как записать ребёнка в школу в Дортмунде?",
    "ar": "كيف أسجل طفلي في المدرسة في دورتموند؟",
    "fa": "چطور بچه‌ام را در دورتموند در مدرسه ثبت نام کنم؟",
    "tr": "Dortmund'da çocuğumu okula nasıl kaydettirebilirim?",
    "fr": "Comment inscrire mon enfant à l'école à Dortmund ?",
    "es": "¿Cómo inscribo a mi hijo en la escuela en Dortmund?",
    "pl": "Jak zapisać dziecko do szkoły w Dortmundzie?",
}
JUST_ARRIVED_IN_VIENNA = {
    "de": "Ich bin gerade in Wien angekommen, wer kann mich beraten?",
    "en": "I just arrived in Vienna, who can advise me?",
    "uk": "Я щойно приїхала до Відня, хто може мені порадити?",
    "ru": "Я только что приехал в Вену, кто может меня проконсультировать?",
    "ar": "وصلت للتو إلى فيينا، من يمكنه أن يقدم لي المشورة؟",
    "fa": "تازه به وین آمده‌ام، چه کسی می‌تواند مرا راهنمایی کند؟",
    "tr": "Viyana'ya yeni geldim, bana kim danışmanlık yapabilir?",
    "fr": "Je viens d'arriver à Vienne, qui peut me conseiller ?",
    "es": "Acabo de llegar a Viena, ¿quién me puede asesorar?",
    "pl": "Właśnie przyjechałem do Wiednia, kto może mi doradzić?",
}
WHERE_TO_REGISTER = {
    "de": "Wo kann ich mich in Dortmund anmelden?",
    "en": "Where can I register my address in Dortmund?",
    "uk": "Де я можу зареєструвати адресу в Дортмунді?",
    "ru": "Где я могу зарегистрировать адрес в Дортмунде?",
    "ar": "أين يمكنني تسجيل عنواني في دورتموند؟",
    "fa": "کجا می‌توانم آدرسم را در دورتموند ثبت کنم؟",
    "tr": "Dortmund'da adres kaydımı nerede yaptırabilirim?",
    "fr": "Où puis-je déclarer mon adresse à Dortmund ?",
    "es": "¿Dónde puedo registrar mi domicilio en Dortmund?",
    "pl": "Gdzie mogę się zameldować w Dortmundzie?",
}
HELP_TO_START = {
    "de": "Ich bin neu in Dortmund, wo bekomme ich Hilfe für den Anfang?",
    "en": "I'm new in Dortmund, where can I get help to get started?",
    "uk": "Я нова в Дортмунді, де мені допоможуть на початку?",
    "ru": "Я недавно в Дортмунде, где мне помогут на первых порах?",
    "ar": "أنا جديد في دورتموند، أين أجد المساعدة في البداية؟",
    "fa": "من تازه به دورتموند آمده‌ام، از کجا برای شروع کمک بگیرم؟",
    "tr": "Dortmund'a yeni geldim, başlangıçta nereden yardım alabilirim?",
    "fr": "Je suis nouveau à Dortmund, où trouver de l'aide pour commencer ?",
    "es": "Soy nuevo en Dortmund, ¿dónde me pueden ayudar al principio?",
    "pl": "Jestem z Polski, gdzie w Dortmundzie dostanę pomoc na początek?",
}
NEWCOMER_REGISTRATION_OFFICES = {
    "do-buergerdienste-international",
    "do-buergerdienste-eu-erstanmeldung",
}
FIRST_QUESTIONS = [
    # A school question: the school office, not the Kita office.
    (SCHOOL, "dortmund", {"do-dlzb-neu-zugereiste"}),
    # Just arrived: the city's first stop.
    (JUST_ARRIVED_IN_VIENNA, "wien", {"wi-startwien-startcoaching"}),
    # Registering: an office for newcomers, not the one for moves inside the city.
    (WHERE_TO_REGISTER, "dortmund", NEWCOMER_REGISTRATION_OFFICES),
    (HELP_TO_START, "dortmund", {"do-migrado-friedensplatz"}),
]


@pytest.mark.parametrize(
    ("question", "language", "city", "first_offices"),
    [
        (questions[language], language, city, offices)
        for questions, city, offices in FIRST_QUESTIONS
        for language in questions
    ],
)
async def test_a_first_question_names_the_right_office_first(
    stack, question, language, city, first_offices
):
    answer = joined(await say(stack, question))
    assert first_office_named(answer, city, language) in first_offices, answer


async def test_a_message_sent_again_with_its_id_is_answered_once(stack: Stack):
    """The gateway sends a message again when the Rasa server that took it died; the
    conversation keeps it once and the user gets the same answer (bot/rasa_ext/once.py)."""
    sender = str(uuid.uuid4())
    question = "Wo kann ich mich in Dortmund anmelden?"
    first = await say(stack, question, sender, message_id="message-1")
    again = await say(stack, question, sender, message_id="message-1")
    assert "Bürgerdienste" in joined(first)
    assert again == first
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.rasa}/conversations/{sender}/tracker") as response:
            events = (await response.json())["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == [question]
    # A new id is a new message.
    third = await say(stack, question, sender, message_id="message-2")
    assert "Bürgerdienste" in joined(third)

"""The NLG endpoint, called the way Rasa 3.6 calls it (rasa/core/nlg/callback.py)."""

import copy
import io
import json
import logging
import re

import pytest
import yaml

from actions.common import FOLLOW_UP_QUESTIONS
from bot.i18n.catalog import resolve_language
from bot.i18n.domain_responses import load_responses
from bot.i18n.labels import CHOICES, FOLLOW_UPS, TOPIC_CHOICES, choice_buttons
from bot.languages import SUPPORTED_LANGUAGES
from bot.settings import REPO_ROOT
from bot.topics import TOPICS
from bot.web.app import create_app
from bot.web.nlg import NLG_TOKEN_KEY, render_response
from tests.sample_card import make_card

DOMAIN = load_responses()

FSI, PDI = "\u2068", "\u2069"

# rasa.core.nlg.callback.nlg_response_format_spec()
RASA_RESPONSE_TYPES = {
    "text": (str,),
    "id": (str, type(None)),
    "buttons": (list, type(None)),
    "elements": (list, type(None)),
    "attachment": (dict, type(None)),
    "image": (str, type(None)),
    "custom": (dict,),
}

SERVICE = make_card()

USER_TEXT = "Wo kann ich meine Wohnung anmelden? Meine Adresse ist Geheimweg 1."


def nlg_request(response, language="de", action_kwargs=None, slots=None):
    """A request body as Rasa builds it; `action_kwargs` as passed to rasa_sdk's
    `dispatcher.utter_message(response=..., **kwargs)` (None: Rasa uttered it itself)."""
    all_slots = {
        "language": language,
        "city": "dortmund",
        "unknown_city": None,
        "pending_topic": None,
        "shown_services": None,
        "session_started_metadata": None,
    }
    all_slots.update(slots or {})
    if action_kwargs is None:
        arguments = {}
    else:
        # What rasa_sdk's utter_message sends besides the action's own arguments.
        arguments = {
            "text": None,
            "buttons": [],
            "elements": [],
            "custom": {},
            "template": response,
            "image": None,
            "attachment": None,
            **action_kwargs,
        }
    return {
        "response": response,
        "id": None,
        "arguments": arguments,
        "tracker": {
            "sender_id": "3f2c9a",
            "slots": all_slots,
            "latest_message": {
                "intent": {"name": "ask_registration", "confidence": 0.98},
                "entities": [],
                "text": USER_TEXT,
                "message_id": "b1e5",
                "metadata": {},
            },
            "latest_event_time": 1795000000.0,
            "followup_action": None,
            "paused": False,
            "stack": [],
            "events": [
                {"event": "action", "timestamp": 1795000000.0, "name": "action_session_start"},
                {"event": "user", "timestamp": 1795000001.0, "text": USER_TEXT},
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "channel": {"name": "rest"},
    }


@pytest.fixture
async def client(aiohttp_client):
    """A client that shows the NLG token, as Rasa does (endpoints.yml)."""
    app = create_app()
    return await aiohttp_client(app, headers={"Authorization": f"Bearer {app[NLG_TOKEN_KEY]}"})


@pytest.mark.parametrize("shown", [None, "Bearer ", "Bearer wrong-token", "wrong-token"])
async def test_nobody_without_the_token_gets_a_response_rendered(aiohttp_client, shown):
    client = await aiohttp_client(create_app())
    headers = {"Authorization": shown} if shown is not None else {}
    response = await client.post("/nlg", json=nlg_request("utter_greet", "de"), headers=headers)
    assert response.status == 401
    assert "NLG_TOKEN" in (await response.json())["error"]


async def render(client, body):
    response = await client.post("/nlg", json=body)
    assert response.status == 200, await response.text()
    data = await response.json()
    for key, value in data.items():
        assert key in RASA_RESPONSE_TYPES, key
        assert isinstance(value, RASA_RESPONSE_TYPES[key]), key
    return data


async def test_health(client):
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_greet_in_german(client):
    data = await render(client, nlg_request("utter_greet", "de"))
    assert data["text"].startswith("Hallo! Ich helfe Menschen, die neu in der Stadt sind.")
    assert data["buttons"] == []


async def test_greet_in_english(client):
    data = await render(client, nlg_request("utter_greet", "en"))
    assert data["text"].startswith("Hello! I help newcomers find the right office")


@pytest.mark.parametrize("language", ["xx", "", None, 7])
async def test_unknown_or_missing_language_falls_back_to_english(client, language):
    data = await render(client, nlg_request("utter_goodbye", language))
    assert data["text"] == "Goodbye, and all the best!"


async def test_regional_language_code(client):
    data = await render(client, nlg_request("utter_goodbye", "de-AT"))
    assert data["text"] == "Auf Wiedersehen und alles Gute!"


async def test_no_slots_at_all(client):
    body = nlg_request("utter_goodbye")
    body["tracker"] = {"sender_id": "x", "slots": {}}
    data = await render(client, body)
    assert data["text"] == "Goodbye, and all the best!"


async def test_list_argument_is_joined_for_the_language(client):
    kwargs = {"known_cities": ["Dortmund", "Wien", "Berlin"]}
    data = await render(client, nlg_request("utter_ask_city", "de", kwargs))
    assert data["text"] == "In welcher Stadt wohnen Sie? Ich kenne Dortmund, Wien und Berlin."
    data = await render(client, nlg_request("utter_ask_city", "en", kwargs))
    assert data["text"] == "Which city do you live in? I know Dortmund, Wien and Berlin."


async def test_topic_label_and_city_name(client):
    kwargs = {"topic": "language_course", "city_name": "Dortmund"}
    data = await render(client, nlg_request("utter_topic_answer", "de", kwargs))
    assert data["text"] == "Diese Stellen in Dortmund helfen Ihnen beim Thema Sprachkurse:"
    data = await render(client, nlg_request("utter_topic_answer", "en", kwargs))
    assert data["text"] == "These offices in Dortmund can help with language courses:"


async def test_placeholder_from_a_slot(client):
    body = nlg_request(
        "utter_city_not_served",
        "en",
        {"known_cities": ["Dortmund", "Wien"]},
        slots={"unknown_city": "Hamburg"},
    )
    data = await render(client, body)
    assert data["text"] == "Sorry, I have no information for Hamburg yet. I know Dortmund and Wien."


async def test_arguments_come_before_slots(client):
    kwargs = {"unknown_city": "Bremen", "known_cities": ["Dortmund"]}
    body = nlg_request("utter_city_not_served", "en", kwargs, slots={"unknown_city": "Kiel"})
    data = await render(client, body)
    assert "for Bremen yet" in data["text"]


APOLOGY = {
    "en": "Sorry, something went wrong on my side. Please ask again in other words.",
    "de": "Entschuldigung, bei mir ist etwas schiefgelaufen. "
    "Bitte fragen Sie noch einmal mit anderen Worten.",
}


@pytest.mark.parametrize("language", ["en", "de"])
async def test_a_placeholder_without_a_value_gets_an_apology_not_a_broken_sentence(
    client, caplog, language
):
    caplog.set_level(logging.DEBUG)
    data = await render(client, nlg_request("utter_city_set", language))
    assert data["text"] == APOLOGY[language]
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert "city_name" in warning.getMessage()
    assert "utter_city_set" in warning.getMessage()
    assert USER_TEXT not in caplog.text


async def test_a_none_argument_is_no_value_and_the_log_names_only_that_placeholder(client, caplog):
    caplog.set_level(logging.DEBUG)
    kwargs = {"topic": None, "city_name": "Dortmund"}
    data = await render(client, nlg_request("utter_topic_answer", "de", kwargs))
    assert data["text"] == APOLOGY["de"]
    assert "topic_label" in caplog.text
    assert "city_name" not in caplog.text and "Dortmund" not in caplog.text


async def test_an_empty_list_and_a_place_without_a_name_are_values(client):
    data = await render(client, nlg_request("utter_nearest_offices_any", "en", {"place": None}))
    assert data["text"] == "These offices are nearest to your location:"
    data = await render(client, nlg_request("utter_ask_city", "en", {"known_cities": []}))
    assert data["text"] == "Which city do you live in? I know ."


# What the actions pass for each placeholder of domain.yml (actions/*.py).
ACTION_ARGUMENTS = {
    "known_cities": ["Dortmund", "Wien"],
    "unknown_city": "Hamburg",
    "city_name": "Dortmund",
    "detected_language": "so",
    "topic": "housing",
    "service": SERVICE,
    "details": {"kind": "address", "services": [SERVICE]},
    "count": 3,
    "place": "Hörde",
    "centre_name": "MigraDo",
    "centre": SERVICE,
    "numbers": [["112", "ambulance_fire"], ["110", "police"]],
    "service_name": "MigraDo",
    "contact": "Friedensplatz 1, 44135 Dortmund",
}


@pytest.mark.parametrize("language", ["en", "de", "ar"])
@pytest.mark.parametrize("response", sorted(DOMAIN))
def test_every_response_renders_with_what_the_actions_pass(response, language, caplog):
    text = render_response(DOMAIN[response], language, ACTION_ARGUMENTS, {}, name=response)
    assert text["text"] not in APOLOGY.values()
    assert "{" not in text["text"]
    assert not caplog.records


async def test_service_card_in_english(client):
    data = await render(client, nlg_request("utter_service_card", "en", {"service": SERVICE}))
    lines = data["text"].splitlines()
    assert lines[0] == "MigraDo – Service Centre for Migration and Integration"
    assert "📍 Friedensplatz 7, 44135 Dortmund" in lines
    assert "🕒 Open now until 12:00 (walk-in)" in lines
    assert "✔ Checked on 1 March 2025 (source: dortmund.de)" in lines


async def test_service_card_in_german(client):
    data = await render(client, nlg_request("utter_service_card", "de", {"service": SERVICE}))
    lines = data["text"].splitlines()
    assert "🕒 Geöffnet bis 12:00 Uhr (ohne Termin)" in lines
    assert "🗣 Deutsch, Englisch und Ukrainisch; Dolmetscher auf Anfrage" in lines
    assert "✔ Geprüft am 1. März 2025 (Quelle: dortmund.de)" in lines
    # No blank line: Rasa's REST channel splits a text into messages at "\n\n".
    assert "\n\n" not in data["text"]


@pytest.mark.parametrize("language", ["en", "de"])
async def test_service_card_with_unknown_hours_shows_no_time(client, language):
    service = copy.deepcopy(SERVICE)
    service["opening"] = {
        "known": False,
        "now": "2026-11-23T10:00:00+01:00",
        "is_open": None,
        "mode": None,
        "closes_at": None,
        "next_opening": None,
        "next_mode": None,
        "closed_today_reason": None,
        "holiday_name": None,
        "closure_reason": None,
        "appointment_only": None,
        "hours_note": None,
    }
    data = await render(client, nlg_request("utter_service_card", language, {"service": service}))
    hours = next(line for line in data["text"].splitlines() if line.startswith("🕒"))
    expected = {
        "en": "Opening hours not known.",
        "de": "Die Öffnungszeiten kenne ich nicht.",
    }
    assert expected[language] in hours
    assert not re.search(r"\d{1,2}:\d{2}", hours)


def test_a_language_without_a_catalog_is_answered_in_english(tmp_path):
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "de" / "LC_MESSAGES" / "messages.po").write_text("")
    assert resolve_language("ar", tmp_path) == "en"
    assert resolve_language("de-AT", tmp_path) == "de"


def test_right_to_left_text_isolates_latin_parts():
    # Rendered directly in Arabic (as once its catalog exists): the Latin parts are isolated.
    text = render_response(
        DOMAIN["utter_service_card"], "ar", {"service": SERVICE}, {}, name="utter_service_card"
    )["text"]
    assert f"{FSI}MigraDo – Service Centre for Migration and Integration{PDI}" in text
    assert f"📍 {FSI}Friedensplatz 7, 44135 Dortmund{PDI}" in text
    assert f"☎ {FSI}+49 231 50-0{PDI}" in text
    assert f"{FSI}dortmund.de{PDI}" in text


def test_right_to_left_isolates_filled_in_names():
    text = render_response(
        DOMAIN["utter_ask_city"], "fa", {"known_cities": ["Dortmund", "Wien"]}, {}
    )["text"]
    assert f"{FSI}Dortmund{PDI}" in text
    assert f"{FSI}Wien{PDI}" in text


async def test_buttons_from_the_action_are_not_echoed(client):
    # Rasa adds the action's buttons to the NLG reply itself; echoing them doubles them.
    buttons = [{"title": "Deutsch", "payload": "/choose_language"}]
    data = await render(client, nlg_request("utter_how_can_i_help", "de", {"buttons": buttons}))
    assert data["buttons"] == []


async def test_response_uttered_by_rasa_itself_has_no_arguments(client):
    body = nlg_request("utter_iamabot", "de")
    assert body["arguments"] == {}
    data = await render(client, body)
    assert data["text"].startswith("Ich bin ein Computerprogramm, kein Mensch.")


async def test_a_whole_tracker_is_more_than_the_renderer_reads(client):
    # Rasa's own callback generator would send every event; ours sends the slots
    # (bot/rasa_ext/server_calls.py), far below the limit (tests/web/test_body_limits.py).
    body = nlg_request("utter_goodbye", "en")
    event = {"event": "user", "timestamp": 1.0, "text": "x" * 1000}
    body["tracker"]["events"] = [event] * 2000  # about 2 MB
    payload = io.BytesIO(json.dumps(body).encode())
    response = await client.post("/nlg", data=payload, headers={"Content-Type": "application/json"})
    assert response.status == 413


async def test_invalid_json_is_400(client):
    response = await client.post(
        "/nlg", data=b'{"response": "utter_greet",', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": "The request body is not valid JSON."}


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
async def test_a_number_json_does_not_have_is_400_not_a_crash(client, number):
    arguments = '{"meters": ' + number + "}"  # what Python's json.dumps writes for them
    body = (
        '{"response": "utter_nearest_offices", "arguments": ' + arguments + ","
        ' "tracker": {"slots": {"language": "de"}}}'
    )
    response = await client.post(
        "/nlg", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": "The request body is not valid JSON."}


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"response": ""},
        {"response": 5},
        {"response": "utter_greet", "arguments": []},
        {"response": "utter_greet", "tracker": {"slots": []}},
    ],
)
async def test_invalid_request_is_400(client, body):
    response = await client.post("/nlg", json=body)
    assert response.status == 400
    assert (await response.json())["error"]


async def test_missing_response_field_is_explained(client):
    response = await client.post("/nlg", json={"arguments": {}})
    assert response.status == 400
    assert "response" in (await response.json())["error"]


async def test_unknown_response_is_404_and_logged_without_message_text(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/nlg", json=nlg_request("utter_does_not_exist", "de"))
    assert response.status == 404
    assert "utter_does_not_exist" in (await response.json())["error"]
    assert "utter_does_not_exist" in caplog.text
    assert USER_TEXT not in caplog.text
    assert "Geheimweg" not in caplog.text


async def test_an_action_can_ask_for_another_language_than_the_conversation(client):
    kwargs = {"detected_language": "so", "city_name": "Wien", "render_in": "de"}
    data = await render(client, nlg_request("utter_language_not_supported", "en", kwargs))
    assert "Somali" in data["text"]  # the language's German name
    assert "Wien" in data["text"]
    assert data["text"] != DOMAIN["utter_language_not_supported"]


async def test_the_unsupported_language_is_named_in_the_reply_language(client):
    kwargs = {"detected_language": "sq", "city_name": "Vienna", "render_in": "en"}
    data = await render(client, nlg_request("utter_language_not_supported", "de", kwargs))
    assert data["text"].startswith("I cannot write in Albanian yet.")


def from_channel(body: dict, channel: str) -> dict:
    """The request as it comes for a conversation of a gateway channel."""
    body["tracker"]["latest_message"]["metadata"] = {"channel": channel, "city": "dortmund"}
    return body


@pytest.mark.parametrize("channel", ["widget", "whatsapp"])
async def test_an_office_reaches_a_gateway_channel_as_structured_data(client, channel):
    body = from_channel(nlg_request("utter_service_card", "de", {"service": SERVICE}), channel)
    data = await render(client, body)
    assert data["text"] == ""  # Rasa would send a text as a message of its own
    custom = data["custom"]
    assert custom["type"] == "service_card" and custom["card"] == SERVICE
    assert (custom["language"], custom["direction"]) == ("de", "ltr")
    lines = custom["lines"]
    assert lines["name"] == SERVICE["name"]
    assert lines["status"] == "Geöffnet bis 12:00 Uhr (ohne Termin)"
    assert lines["address"] == "Friedensplatz 7, 44135 Dortmund"
    assert (lines["phone"], lines["tel"]) == ("+49 231 50-0", "+49231500")
    assert lines["map_url"].startswith("https://www.openstreetmap.org/?mlat=51.51360")
    assert lines["checked"].startswith("Geprüft am")
    # The plain text is there too, for a channel that can only show text.
    plain = await render(client, nlg_request("utter_service_card", "de", {"service": SERVICE}))
    assert custom["text"] == plain["text"] and "custom" not in plain


async def test_card_lines_in_arabic_keep_latin_names_readable(client):
    body = from_channel(nlg_request("utter_service_card", "ar", {"service": SERVICE}), "widget")
    custom = (await render(client, body))["custom"]
    assert custom["direction"] == "rtl"
    assert custom["lines"]["address"] == "\u2068Friedensplatz 7, 44135 Dortmund\u2069"
    assert custom["lines"]["tel"] == "+49231500"  # a link target is never isolated


async def test_follow_up_questions_come_as_translated_buttons(client):
    choices = {"choices": ["hours", "address", "documents", "cost", "other_options", "nonsense"]}
    data = await render(client, nlg_request("utter_follow_ups", "de", choices))
    assert data["text"] == "Was möchten Sie noch wissen?"
    assert data["buttons"] == [
        {"title": "Öffnungszeiten", "payload": "/ask_hours"},
        {"title": "Wo ist das?", "payload": "/ask_address"},
        {"title": "Was mitbringen?", "payload": "/ask_documents"},
        {"title": "Kosten", "payload": "/ask_cost"},
        {"title": "Andere Stellen", "payload": "/ask_other_options"},
    ]


def test_every_button_fits_whatsapp_and_asks_a_domain_intent():
    intents = set(yaml.safe_load((REPO_ROOT / "domain.yml").read_text())["intents"])
    assert set(FOLLOW_UP_QUESTIONS) == set(FOLLOW_UPS)
    assert {code.removeprefix("topic:") for code in TOPIC_CHOICES} == set(TOPICS)
    for language in ("en", *[code for code in SUPPORTED_LANGUAGES if code != "en"]):
        buttons = choice_buttons(list(CHOICES), language)
        assert len(buttons) == len(CHOICES)
        for button in buttons:
            assert len(button["title"]) <= 20, (language, button)
            assert button["payload"].removeprefix("/") in intents


async def test_a_clarifying_question_offers_the_topics_in_the_users_language(client):
    choices = {"choices": ["topic:housing", "topic:employment", "something_else"]}
    data = await render(client, nlg_request("utter_which_topic", "ar", choices))
    assert data["text"] == "ربما لم أفهم سؤالك جيدًا. يُرجى اختيار موضوعه:"
    assert data["buttons"] == [
        {"title": "السكن", "payload": "/ask_housing"},
        {"title": "العمل", "payload": "/ask_employment"},
        {"title": "شيء آخر", "payload": "/out_of_scope"},
    ]

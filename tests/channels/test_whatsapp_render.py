"""Replies as WhatsApp messages: each rendered message is also sent to the Graph API
stand-in, which refuses what Meta would refuse."""

from __future__ import annotations

import aiohttp
import pytest

from bot.channels.messages import Choice, Reply
from bot.channels.whatsapp import rasa_text
from bot.channels.whatsapp_client import GraphClient
from bot.channels.whatsapp_render import (
    TEXT_MAX,
    compact_card,
    language_menu,
    split_text,
    whatsapp_messages,
)
from bot.channels.whatsapp_senders import WhatsAppSender, WhatsAppSenders
from bot.channels.whatsapp_webhook import UserMessage
from bot.languages import ENDONYMS
from tests.support.graph_api import GraphApiStandIn

ANNA = "4915112345678"
FOLLOW_UPS = (
    Choice("Öffnungszeiten", "/ask_hours"),
    Choice("Was mitbringen?", "/ask_documents"),
    Choice("Kosten", "/ask_cost"),
    Choice("Andere Stellen", "/ask_other_options"),
)
CITIES = tuple(
    Choice(f"Stadt Nummer {n}", f'/inform_city{{"city": "city-{n}"}}') for n in range(1, 12)
)


def office_card(name="Bürgerdienste Dortmund", latitude=51.5136, lines=True, language="de"):
    """A service card Reply as the NLG endpoint gives it to WhatsApp."""
    full = (
        f"{name}\n✅ Spricht Deutsch\n🕒 Jetzt geöffnet bis 12:00\n📍 Südwall 2-4\n"
        "📞 +49 231 50-0\nLange Beschreibung"
    )
    card = {
        "type": "service_card",
        "language": language,
        "direction": "ltr",
        "text": full,
        "card": {
            "name": name,
            "address": "Südwall 2-4, 44137 Dortmund",
            "latitude": latitude,
            "longitude": 7.4653,
        },
    }
    if lines:
        card["lines"] = {
            "name": name,
            "reasons": "✅ Spricht Deutsch",
            "only_for": None,
            "status": "🕒 Jetzt geöffnet bis 12:00",
            "address": "📍 Südwall 2-4, 44137 Dortmund",
            "phone": "📞 +49 231 50-0",
            "tel": "+49231500",
            "map_url": "https://www.openstreetmap.org/?mlat=51.5136&mlon=7.4653",
            "url": "https://www.dortmund.de",
            "email": None,
            "description": "Lange Beschreibung",
            "hours_note": "Termine online",
            "languages": "Deutsch, Englisch",
            "checked": "Geprüft am 1. März 2025",
            "warning": None,
        }
    return Reply(full, card=card)


@pytest.fixture
async def graph():
    async with GraphApiStandIn() as graph:
        yield graph


@pytest.fixture
async def client(graph):
    async with aiohttp.ClientSession() as http:
        yield GraphClient(http, graph.base_url, graph.phone_number_id, graph.access_token)


async def accepted(client, graph, messages) -> list[dict]:
    """Send `messages` to the stand-in; every one must be accepted."""
    for message in messages:
        await client.send(ANNA, message)
    assert graph.refused == []
    return graph.sent[-len(messages) :] if messages else []


def test_a_long_text_is_split_after_sentences_and_never_inside_a_word():
    sentence = "Bitte bringen Sie Ihren Pass und den Mietvertrag mit. "
    text = sentence * 200  # about 10,800 characters
    parts = split_text(text, TEXT_MAX)
    assert len(parts) == 3
    assert all(len(part) <= TEXT_MAX for part in parts)
    assert all(part.endswith("mit.") for part in parts)
    assert " ".join(parts) == text.strip()


def test_a_sentence_longer_than_the_limit_is_cut_between_words():
    text = "Wort " * 30 + "Ende."
    parts = split_text(text, 42)
    assert all(len(part) <= 42 for part in parts)
    assert all(word in ("Wort", "Ende.") for part in parts for word in part.split(" "))
    assert " ".join(parts) == text


def test_only_a_word_longer_than_the_limit_is_cut_inside():
    assert split_text("https://example.org/" + "a" * 30, 20) == [
        "https://example.org/",
        "a" * 20,
        "a" * 10,
    ]


def test_a_line_break_is_a_place_to_cut_too():
    assert split_text("Erste Zeile ohne Punkt\nZweite Zeile", 30) == [
        "Erste Zeile ohne Punkt",
        "Zweite Zeile",
    ]


async def test_a_long_answer_goes_out_in_several_messages(client, graph):
    text = "Das Amt hilft Ihnen bei der Anmeldung. " * 250
    sent = await accepted(client, graph, whatsapp_messages([Reply(text)], WhatsAppSender(ANNA)))
    assert len(sent) == 3
    assert all(m["type"] == "text" and len(m["text"]["body"]) <= TEXT_MAX for m in sent)


@pytest.mark.parametrize("count", [2, 3])
async def test_up_to_three_short_choices_are_reply_buttons(client, graph, count):
    sender = WhatsAppSender(ANNA)
    reply = Reply("Was möchten Sie wissen?", FOLLOW_UPS[:count])
    (message,) = await accepted(client, graph, whatsapp_messages([reply], sender))
    interactive = message["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"] == "Was möchten Sie wissen?"
    buttons = interactive["action"]["buttons"]
    assert [(b["reply"]["title"], b["reply"]["id"]) for b in buttons] == [
        (c.title, c.payload) for c in FOLLOW_UPS[:count]
    ]


async def test_four_choices_are_a_list_with_the_payloads_as_row_ids(client, graph):
    sender = WhatsAppSender(ANNA, language="de")
    (message,) = await accepted(
        client, graph, whatsapp_messages([Reply("Mehr?", FOLLOW_UPS)], sender)
    )
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Optionen"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [(r["title"], r["id"]) for r in rows] == [(c.title, c.payload) for c in FOLLOW_UPS]


async def test_three_choices_with_a_long_title_become_a_list_with_shortened_rows(client, graph):
    choices = (
        Choice("Integrationskurs mit Kinderbetreuung in der Nähe", "/ask_a"),
        Choice("Kosten", "/ask_cost"),
        Choice("Andere Stellen", "/ask_other_options"),
    )
    (message,) = await accepted(
        client, graph, whatsapp_messages([Reply("Welche?", choices)], WhatsAppSender(ANNA))
    )
    first = message["interactive"]["action"]["sections"][0]["rows"][0]
    assert message["interactive"]["type"] == "list"
    assert first["title"] == "Integrationskurs mit Ki…"
    assert first["description"] == "Integrationskurs mit Kinderbetreuung in der Nähe"


async def test_eleven_choices_are_numbered_text_and_a_number_answers(client, graph):
    sender = WhatsAppSender(ANNA)
    (message,) = await accepted(
        client, graph, whatsapp_messages([Reply("Welche Stadt?", CITIES)], sender)
    )
    body = message["text"]["body"]
    assert body.startswith("Welche Stadt?\n\n1. Stadt Nummer 1\n2. Stadt Nummer 2\n")
    assert "11. Stadt Nummer 11" in body
    assert body.endswith("Please answer with the number of your choice.")
    answer = UserMessage(ANNA, "wamid.3", "text", " 3 ")
    assert rasa_text(answer, sender) == '/inform_city{"city": "city-3"}'
    assert rasa_text(UserMessage(ANNA, "wamid.12", "text", "12"), sender) == "12"
    # The next answer replaces the numbered menu: "3" is words again.
    whatsapp_messages([Reply("Gerne.")], sender)
    assert rasa_text(answer, sender) == " 3 "


async def test_a_payload_too_long_for_an_id_travels_as_a_short_id(client, graph):
    long_payload = '/inform_place{"place": "' + "Nordstadt " * 30 + '"}'
    sender = WhatsAppSender(ANNA)
    choices = (Choice("Nordstadt", long_payload), Choice("Hörde", "/inform_place"))
    (message,) = await accepted(client, graph, whatsapp_messages([Reply("Wo?", choices)], sender))
    tapped = message["interactive"]["action"]["buttons"][0]["reply"]["id"]
    assert len(tapped) <= 256 and tapped != long_payload
    assert rasa_text(UserMessage(ANNA, "wamid.t", "reply", tapped), sender) == long_payload
    assert rasa_text(UserMessage(ANNA, "wamid.t", "reply", "~forgotten"), sender) is None


async def test_a_long_text_with_choices_keeps_every_word_and_a_short_body(client, graph):
    text = "Diese Stellen können helfen. " * 60  # about 1,700 characters
    sent = await accepted(
        client, graph, whatsapp_messages([Reply(text, FOLLOW_UPS[:2])], WhatsAppSender(ANNA))
    )
    assert [m["type"] for m in sent] == ["text", "interactive"]
    body = sent[1]["interactive"]["body"]["text"]
    assert len(body) <= 1024
    assert f"{sent[0]['text']['body']} {body}" == text.strip()


async def test_an_office_is_a_compact_card_then_one_map_pin_per_answer(client, graph):
    sender = WhatsAppSender(ANNA)
    replies = [
        Reply("Diese Stellen in Dortmund können helfen:"),
        office_card("Bürgerdienste Dortmund"),
        office_card("Bürgerbüro Hörde"),
        Reply("Möchten Sie mehr wissen?", FOLLOW_UPS[:3]),
    ]
    sent = await accepted(client, graph, whatsapp_messages(replies, sender))
    assert [m["type"] for m in sent] == ["text", "text", "location", "text", "interactive"]
    assert sent[1]["text"]["body"] == (
        "*Bürgerdienste Dortmund*\n✅ Spricht Deutsch\n🕒 Jetzt geöffnet bis 12:00\n"
        "📍 Südwall 2-4, 44137 Dortmund\n📞 +49 231 50-0"
    )
    assert sent[2]["location"] == {
        "latitude": 51.5136,
        "longitude": 7.4653,
        "name": "Bürgerdienste Dortmund",
        "address": "📍 Südwall 2-4, 44137 Dortmund",
    }
    assert sent[3]["text"]["body"].startswith("*Bürgerbüro Hörde*\n")
    assert sender.language == "de"


def test_a_card_without_lines_is_shown_as_its_full_text():
    reply = office_card(lines=False)
    assert compact_card(reply.card, reply.text) == reply.text
    messages = whatsapp_messages([reply], WhatsAppSender(ANNA))
    assert messages[0]["text"]["body"] == reply.text
    assert messages[1]["type"] == "location"


def test_an_office_without_a_point_gets_no_map_pin_and_the_next_one_does():
    messages = whatsapp_messages(
        [office_card("Ohne Punkt", latitude=None), office_card("Mit Punkt")], WhatsAppSender(ANNA)
    )
    assert [m["type"] for m in messages] == ["text", "text", "location"]
    assert messages[2]["location"]["name"] == "Mit Punkt"


async def test_the_language_menu_lists_the_ten_languages_in_their_own_names(client, graph):
    (message,) = await accepted(client, graph, [language_menu("en")])
    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == list(ENDONYMS.values())
    assert rows[0]["id"] == '/choose_language{"language": "de"}'
    body = message["interactive"]["body"]["text"]
    # Everyone can read the invitation: it is there in each language.
    assert body.startswith("Wählen Sie Ihre Sprache · Choose your language · Оберіть мову · ")
    assert body.count(" · ") == 9 and "اختيار اللغة" in body and "Wybór języka" in body
    assert message["interactive"]["action"]["button"] == "🌐 Language"


def test_senders_are_forgotten_after_their_time_and_beyond_the_bound():
    senders = WhatsAppSenders(max_senders=2, ttl_seconds=100)
    assert senders.seen("s1", "111", now=0)[1] is True
    assert senders.seen("s1", "111", now=10)[1] is False
    senders.seen("s2", "222", now=20)
    senders.seen("s3", "333", now=30)  # over the bound: s1, the least recent, goes
    assert senders.get("s1", now=30) is None
    assert senders.get("s2", now=30).phone == "222"
    assert senders.get("s2", now=125) is None  # 105 s after its last message
    assert senders.get("s3", now=125).phone == "333"


def test_a_gender_star_in_an_office_name_does_not_end_the_bold_early():
    card = {"lines": {"name": "Erstanmeldung EU-Bürger*innen", "status": "Geöffnet"}}
    body = compact_card(card, "full text")
    assert body.splitlines()[0] == "*Erstanmeldung EU-Bürger\u2217innen*"
    assert body.count("*") == 2


def test_a_staff_answer_is_marked_as_the_teams_in_the_users_language():
    sender = WhatsAppSender(phone=ANNA, language="tr")
    (message,) = whatsapp_messages(
        [Reply("Tercümana ihtiyacınız var mı?", from_staff=True)], sender
    )
    label, text = message["text"]["body"].split("\n", 1)
    assert label == "*Karşılama merkezi ekibinden*"  # bold, in Turkish
    assert text == "Tercümana ihtiyacınız var mı?"
    (assistant,) = whatsapp_messages([Reply("Merhaba")], sender)
    assert assistant["text"]["body"] == "Merhaba"  # the assistant's own carry no label

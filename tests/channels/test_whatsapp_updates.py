"""Reading Meta's notifications: what each kind of user message becomes for Rasa."""

from __future__ import annotations

import pytest

from bot.channels.whatsapp import rasa_text
from bot.channels.whatsapp_senders import WhatsAppSender
from bot.channels.whatsapp_webhook import (
    MessageStatus,
    UserMessage,
    signature_is_valid,
    updates_in,
)
from tests.support.graph_api import (
    meta_bytes,
    notification,
    signature,
    status_of,
    text_from,
    user_message,
)

ANNA = "4915112345678"


def only_update(message: dict) -> UserMessage:
    (update,) = updates_in(notification(message))
    return update


def test_a_text_is_passed_on_as_written():
    update = only_update(text_from(ANNA, "Wo kann ich mich anmelden?", wamid="wamid.1"))
    assert update == UserMessage(ANNA, "wamid.1", "text", "Wo kann ich mich anmelden?")
    assert rasa_text(update, WhatsAppSender(ANNA)) == "Wo kann ich mich anmelden?"


@pytest.mark.parametrize("reply_type", ["button_reply", "list_reply"])
def test_a_tapped_button_or_row_sends_its_id_never_its_title(reply_type):
    tapped = {"id": "/ask_hours", "title": "Öffnungszeiten", "description": "Wann offen?"}
    update = only_update(
        user_message(ANNA, "interactive", {"type": reply_type, reply_type: tapped})
    )
    assert update.kind == "reply"
    assert rasa_text(update, WhatsAppSender(ANNA)) == "/ask_hours"


def test_a_template_quick_reply_sends_its_payload():
    update = only_update(
        user_message(ANNA, "button", {"payload": "/ask_documents", "text": "Was mitbringen?"})
    )
    assert rasa_text(update, WhatsAppSender(ANNA)) == "/ask_documents"


def test_a_shared_position_is_a_location_message():
    shared = {"latitude": 51.5136, "longitude": 7.4653, "name": "Zuhause", "address": "Weg 1"}
    update = only_update(user_message(ANNA, "location", shared))
    assert update.location == (51.5136, 7.4653)
    assert rasa_text(update, WhatsAppSender(ANNA)) == "/inform_location"


@pytest.mark.parametrize(
    "kind",
    ["image", "audio", "video", "document", "sticker", "reaction", "contacts", "unsupported"],
)
def test_what_has_no_words_is_unreadable(kind):
    assert only_update(user_message(ANNA, kind, {"id": "1"})).kind == "unreadable"


def test_an_interactive_message_that_is_not_a_reply_is_unreadable():
    flow = {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}
    assert only_update(user_message(ANNA, "interactive", flow)).kind == "unreadable"


@pytest.mark.parametrize(
    "location",
    [{"latitude": 91, "longitude": 7}, {"latitude": True, "longitude": 7}, {"latitude": 51}],
)
def test_a_position_that_is_not_one_is_skipped(location):
    assert list(updates_in(notification(user_message(ANNA, "location", location)))) == []


def test_statuses_come_with_their_error_codes():
    payload = notification(
        statuses=(
            status_of("wamid.1", "delivered", ANNA),
            status_of("wamid.2", "failed", ANNA, error_code=131047),
        )
    )
    assert list(updates_in(payload)) == [
        MessageStatus("delivered"),
        MessageStatus("failed", (131047,)),
    ]


@pytest.mark.parametrize("payload", [None, [], {"entry": "x"}, {"entry": [{"changes": [1]}]}])
def test_a_notification_of_another_shape_yields_nothing(payload):
    assert list(updates_in(payload)) == []


def test_the_signature_is_over_the_raw_bytes():
    body = meta_bytes(notification(text_from(ANNA, "Привіт")))
    assert signature_is_valid("secret", body, signature(body, "secret"))
    assert not signature_is_valid("secret", body, signature(body, "other"))
    assert not signature_is_valid("secret", body + b" ", signature(body, "secret"))
    assert not signature_is_valid("secret", body, signature(body, "secret").upper())
    assert not signature_is_valid("secret", body, None)

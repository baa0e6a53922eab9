"""The NLG endpoint: Rasa asks `POST /nlg` for the text of every response.

Rasa (endpoints.yml: `nlg: url: http://localhost:8080/nlg`) posts
`{"response": "utter_x", "id": ..., "arguments": {...}, "tracker": {"slots": {...}, ...},
"channel": {...}}`; `arguments` holds what an action passed to `utter_message`. The reply
follows Rasa's `nlg_response_format_spec` (rasa/core/nlg/callback.py).

The response's English text in domain.yml is the msgid. It is translated into the
conversation's language (slot `language`; English if missing or unsupported), then its
`{placeholders}` are filled from the arguments, then from the slots, plus computed values:
`topic_label` from the `topic` argument, `detected_language_name` from `detected_language`,
`service_card` from the `service` argument, `service_details` from the `details` argument
and `place_name` from the `place` argument ("your location" when it is empty). An action
can ask for another language than the conversation's with the `render_in` argument.
Lists are joined for the language, and in right-to-left languages every left-to-right run
(a Latin name, a phone number, a time) is isolated so that it keeps its direction. A
placeholder with no value at all (no argument, no slot) gives a short apology instead of a
broken sentence. Logs never contain conversation text.

Each rendered response is counted by name and language (Prometheus; bot/web/metrics.py
serves them), and so are the two answers that say the assistant did not understand: the
fallback (`utter_default`, "please say it in other words") and the clarifying question
(`utter_which_topic`, "which of these is your question about?"), both from
action_fallback (actions/topics.py).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from aiohttp import web
from babel.numbers import format_decimal
from prometheus_client import Counter

from bot.channels.messages import CHANNELS
from bot.i18n.catalog import gettext, resolve_language
from bot.i18n.formatting import (
    babel_locale,
    format_day_time,
    format_list,
    isolate_in,
    isolate_runs,
    language_name,
    placeholders,
    safe_format,
    text_direction,
)
from bot.i18n.labels import EMERGENCY_SERVICES, N_, YOUR_LOCATION, choice_buttons, topic_label
from bot.i18n.service_card import card_lines, render_service_card
from bot.i18n.service_details import render_service_details

logger = logging.getLogger(__name__)

RESPONSES_RENDERED = Counter(
    "welcome_desk_responses_total",
    "Responses the NLG endpoint rendered, by response name (domain.yml) and language.",
    ["response", "language"],
)
FALLBACKS = Counter(
    "welcome_desk_fallbacks_total",
    "Messages the assistant did not understand and asked to rephrase (utter_default), by language.",
    ["language"],
)
CLARIFICATIONS = Counter(
    "welcome_desk_clarifications_total",
    "Messages the assistant was unsure about and asked which topic they meant "
    "(utter_which_topic), by language.",
    ["language"],
)
# The responses that say the assistant did not understand, and what counts them.
NOT_UNDERSTOOD = {"utter_default": FALLBACKS, "utter_which_topic": CLARIFICATIONS}

# {response name: English text} from domain.yml; set by create_app.
DOMAIN_RESPONSES_KEY = web.AppKey("domain_responses", Mapping)
# The token Rasa shows (bot.settings: NLG_TOKEN, else var/nlg-token).
NLG_TOKEN_KEY = web.AppKey("nlg_token", str)

# Keys rasa_sdk's `utter_message` always sends along with an action's own arguments:
# they are not placeholder values.
RESERVED_ARGUMENTS = frozenset(
    {
        "text",
        "buttons",
        "elements",
        "custom",
        "template",
        "response",
        "image",
        "attachment",
        "quick_replies",
    }
)

# TRANSLATOR: Said instead of a reply that lacks a fact it needs.
# TRANSLATOR: The user can simply ask again.
SOMETHING_WENT_WRONG = N_(
    "Sorry, something went wrong on my side. Please ask again in other words."
)


def strict_json(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity (which Python's json reads) are
    refused, so they never reach a number formatter."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def handle_nlg(request: web.Request) -> web.Response:
    """`POST /nlg`: render one response for Rasa (which shows NLG_TOKEN as a bearer token)."""
    shown = request.headers.get("Authorization", "")
    expected = f"Bearer {request.app[NLG_TOKEN_KEY]}"
    if not hmac.compare_digest(shown.encode(), expected.encode()):
        return _error(401, "Show the NLG token: Authorization: Bearer <NLG_TOKEN>.")
    try:
        body = await request.json(loads=strict_json)
    except ValueError:
        return _error(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return _error(400, "The request body must be a JSON object.")
    name = body.get("response")
    if not isinstance(name, str) or not name:
        return _error(
            400, "Missing field 'response': the name of the response, e.g. 'utter_greet'."
        )
    arguments = _field(body, "arguments")
    if not isinstance(arguments, dict):
        return _error(400, "Field 'arguments' must be a JSON object.")
    tracker = _field(body, "tracker")
    slots = _field(tracker, "slots") if isinstance(tracker, dict) else None
    if not isinstance(slots, dict):
        return _error(400, "Field 'tracker' must be a JSON object, with 'slots' an object.")

    template = request.app[DOMAIN_RESPONSES_KEY].get(name)
    if template is None:
        logger.warning("NLG request for an unknown response %r.", name[:100])
        return _error(404, f"Unknown response {name!r}: it is not in domain.yml.")

    # An action may ask for another language than the conversation's (`render_in`), e.g. to
    # answer a message in an unsupported language in English and in the city's language.
    lang = resolve_language(arguments.get("render_in") or slots.get("language"))
    channel = _channel(tracker)
    reply = render_response(template, lang, arguments, slots, name=name, channel=channel)
    RESPONSES_RENDERED.labels(name, lang).inc()
    if name in NOT_UNDERSTOOD:
        NOT_UNDERSTOOD[name].labels(lang).inc()
    return web.json_response(reply)


def render_response(
    template: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
    *,
    name: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Rasa's NLG reply for the response `name` with the text `template` (English) in `lang`.

    An office (the `service` argument) in a conversation of a gateway channel (`channel`
    is "widget" or "whatsapp") comes as structured data only: a `custom` payload with the
    card, its lines in `lang` and the whole text, and no `text` (Rasa would send both as
    messages of their own). Everywhere else (REST, `rasa shell`) an office is text.

    Buttons (the `choices` argument: codes of `CHOICES`, such as the follow-up questions or
    the topics of a clarifying question) are translated here.
    Buttons an action passes itself are not echoed: Rasa adds them to the reply (rasa/core/
    actions/action.py, `_utter_responses`), so they would appear twice.
    """
    text = render_text(template, lang, arguments, slots, name=name)
    reply: dict[str, Any] = {
        "text": text,
        "buttons": choice_buttons(arguments.get("choices"), lang),
        "image": None,
        "elements": [],
        "attachment": None,
    }
    service = arguments.get("service")
    if channel in CHANNELS and isinstance(service, Mapping):
        reply["text"] = ""
        reply["custom"] = {
            "type": "service_card",
            "language": lang,
            "direction": text_direction(lang),
            "text": text,
            "card": dict(service),
            "lines": card_lines(service, lang),
        }
    return reply


def _channel(tracker: Mapping[str, Any]) -> str | None:
    """The channel of the conversation's latest message (its metadata `channel`)."""
    latest = tracker.get("latest_message")
    metadata = latest.get("metadata") if isinstance(latest, Mapping) else None
    channel = metadata.get("channel") if isinstance(metadata, Mapping) else None
    return channel if isinstance(channel, str) else None


def render_text(
    template: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
    *,
    name: str | None = None,
) -> str:
    """Translate `template` into `lang` and fill its placeholders.

    A placeholder with no value at all would leave a broken sentence ("OK, I will answer
    for ."): the reply is then an apology, and the log names the response `name` and the
    placeholder (never a value, which may be the user's words).
    """
    translated = gettext(lang, template)
    for text in (translated, template) if translated != template else (template,):
        try:
            values = placeholder_values(placeholders(text), lang, arguments, slots)
            missing = sorted(field for field, value in values.items() if value is None)
            if missing:
                logger.warning(
                    "No value for the placeholder(s) %s of %s: answered with an apology.",
                    ", ".join(missing),
                    name or "a response",
                )
                return gettext(lang, SOMETHING_WENT_WRONG)
            # Latin words and numbers of the translation itself ("(Termin)", a time) too.
            return isolate_runs(safe_format(text, values), lang)
        except ValueError:
            logger.warning("Malformed placeholders in a response text for %r.", lang)
    return template


def placeholder_values(
    names: Collection[str],
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
) -> dict[str, str | None]:
    """The text for each placeholder name; None when there is nothing to fill it with.

    An empty list or text is a value (it renders as ""); so is "your location" for a
    `place_name` without a place.
    """
    latin = isolate_in(lang)
    return {name: _placeholder_value(name, lang, arguments, slots, latin) for name in names}


def _placeholder_value(
    name: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
    latin: Callable[[str], str],
) -> str | None:
    value = arguments.get(name) if name not in RESERVED_ARGUMENTS else None
    if value is None:
        if name in COMPOSED:
            argument, compose = COMPOSED[name]
            source = arguments.get(argument)
            if source is None and name not in COMPOSED_WITHOUT_ARGUMENT:
                return None
            return compose(source, lang, latin)
        value = slots.get(name)
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items = [_scalar_text(item, lang, latin) for item in value]
        return format_list([item for item in items if item], lang)
    return _scalar_text(value, lang, latin)


def _service_card(service: Any, lang: str, latin: Callable[[str], str]) -> str:
    return render_service_card(service, lang) if isinstance(service, Mapping) else ""


def _service_details(details: Any, lang: str, latin: Callable[[str], str]) -> str:
    return render_service_details(details, lang) if isinstance(details, Mapping) else ""


def _place_name(place: Any, lang: str, latin: Callable[[str], str]) -> str:
    if isinstance(place, str) and place:
        return isolate_runs(place, lang)
    return gettext(lang, YOUR_LOCATION)


def _topic_label(topic: Any, lang: str, latin: Callable[[str], str]) -> str:
    return topic_label(topic, lang) if isinstance(topic, str) and topic else ""


def _language_name(code: Any, lang: str, latin: Callable[[str], str]) -> str:
    return language_name(code, lang) if isinstance(code, str) and code else ""


def _staff_back(centre: Any, lang: str, latin: Callable[[str], str]) -> str:
    """When the welcome centre (a service card) next opens: "tomorrow 08:00"."""
    opening = centre.get("opening") if isinstance(centre, Mapping) else None
    if not isinstance(opening, Mapping):
        return ""
    try:
        moment = dt.datetime.fromisoformat(str(opening.get("next_opening")))
        now = dt.datetime.fromisoformat(str(opening.get("now")))
    except ValueError:
        return ""
    return format_day_time(moment, lang, now, centre.get("timezone"))


# When the directory gives no numbers for the city: 112 works across the EU.
EU_EMERGENCY = (("112", "emergency"),)


def _emergency_numbers(numbers: Any, lang: str, latin: Callable[[str], str]) -> str:
    """ "112 (ambulance and fire brigade) or 110 (police)": the city's numbers from the
    directory, as [number, what it reaches] pairs (codes of EMERGENCY_SERVICES)."""
    given = numbers if isinstance(numbers, list | tuple) else ()
    pairs = [
        (item[0], item[1])
        for item in given
        if isinstance(item, list | tuple)
        and len(item) == 2
        and all(isinstance(part, str) and part for part in item)
        and item[1] in EMERGENCY_SERVICES
    ]
    return format_list(
        [
            f"{latin(number)} ({gettext(lang, EMERGENCY_SERVICES[what])})"
            for number, what in pairs or EU_EMERGENCY
        ],
        lang,
        style="or",
    )


# Placeholders the NLG composes from an argument of another name: (argument, composer).
COMPOSED: Mapping[str, tuple[str, Callable[[Any, str, Callable[[str], str]], str]]] = {
    "service_card": ("service", _service_card),
    "service_details": ("details", _service_details),
    "place_name": ("place", _place_name),
    "topic_label": ("topic", _topic_label),
    "detected_language_name": ("detected_language", _language_name),
    "staff_back": ("centre", _staff_back),
    "emergency_numbers": ("numbers", _emergency_numbers),
}
# Composed even without their argument: a position without a name is "your location".
COMPOSED_WITHOUT_ARGUMENT = frozenset({"place_name"})


def _scalar_text(value: Any, lang: str, latin: Callable[[str], str]) -> str:
    if value is None or isinstance(value, Mapping | list | tuple):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return format_decimal(value, locale=babel_locale(lang))
    # A Latin name ("Dortmund") is one run and comes back isolated whole; a value in
    # Arabic or Persian has only its numbers and Latin words isolated.
    return isolate_runs(str(value), lang)


def _field(container: dict[str, Any], name: str) -> Any:
    """A field of the request; missing or null means empty."""
    value = container.get(name)
    return {} if value is None else value


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)

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
Lists are joined for the language, and in right-to-left languages the filled-in names are
isolated so that Latin text keeps its direction. Logs never contain conversation text.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from aiohttp import web
from babel.numbers import format_decimal

from bot.i18n.catalog import gettext, resolve_language
from bot.i18n.formatting import (
    babel_locale,
    format_list,
    isolate,
    language_name,
    placeholders,
    safe_format,
    text_direction,
)
from bot.i18n.labels import YOUR_LOCATION, topic_label
from bot.i18n.service_card import render_service_card
from bot.i18n.service_details import render_service_details

logger = logging.getLogger(__name__)

# {response name: English text} from domain.yml; set by create_app.
DOMAIN_RESPONSES_KEY = web.AppKey("domain_responses", Mapping)

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


async def handle_nlg(request: web.Request) -> web.Response:
    """`POST /nlg`: render one response for Rasa."""
    try:
        body = await request.json()
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
    return web.json_response(render_response(template, lang, arguments, slots))


def render_response(
    template: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
) -> dict[str, Any]:
    """Rasa's NLG reply for the response text `template` (English) in `lang`.

    No `custom` payload: Rasa's channels would send it as a message of its own. Widgets set
    each bubble's direction with `dir="auto"`.

    Buttons an action passes are not echoed: Rasa adds the action's buttons to the reply
    itself (rasa/core/actions/action.py, `_utter_responses`), so they would appear twice.
    """
    return {
        "text": render_text(template, lang, arguments, slots),
        "buttons": [],
        "image": None,
        "elements": [],
        "attachment": None,
    }


def render_text(
    template: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
) -> str:
    """Translate `template` into `lang` and fill its placeholders."""
    translated = gettext(lang, template)
    for text in (translated, template) if translated != template else (template,):
        try:
            names = placeholders(text)
            return safe_format(text, placeholder_values(names, lang, arguments, slots))
        except ValueError:
            logger.warning("Malformed placeholders in a response text for %r.", lang)
    return template


def placeholder_values(
    names: Collection[str],
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
) -> dict[str, str]:
    """The text for each placeholder name; "" when there is no value."""
    rtl = text_direction(lang) == "rtl"
    return {name: _placeholder_value(name, lang, arguments, slots, rtl) for name in names}


def _placeholder_value(
    name: str,
    lang: str,
    arguments: Mapping[str, Any],
    slots: Mapping[str, Any],
    rtl: bool,
) -> str:
    value = arguments.get(name) if name not in RESERVED_ARGUMENTS else None
    if value is None:
        if name == "service_card":
            service = arguments.get("service")
            return render_service_card(service, lang) if isinstance(service, Mapping) else ""
        if name == "service_details":
            details = arguments.get("details")
            return render_service_details(details, lang) if isinstance(details, Mapping) else ""
        if name == "place_name":
            place = arguments.get("place")
            if isinstance(place, str) and place:
                return isolate(place) if rtl else place
            return gettext(lang, YOUR_LOCATION)
        if name == "topic_label":
            topic = arguments.get("topic")
            return topic_label(topic, lang) if isinstance(topic, str) and topic else ""
        if name == "detected_language_name":
            code = arguments.get("detected_language")
            return language_name(code, lang) if isinstance(code, str) and code else ""
        value = slots.get(name)
    if isinstance(value, list | tuple):
        items = [_scalar_text(item, lang, rtl) for item in value]
        return format_list([item for item in items if item], lang)
    return _scalar_text(value, lang, rtl)


def _scalar_text(value: Any, lang: str, rtl: bool) -> str:
    if value is None or isinstance(value, Mapping | list | tuple):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return format_decimal(value, locale=babel_locale(lang))
    text = str(value)
    return isolate(text) if rtl and text else text


def _field(container: dict[str, Any], name: str) -> Any:
    """A field of the request; missing or null means empty."""
    value = container.get(name)
    return {} if value is None else value


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)

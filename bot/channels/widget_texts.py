"""The widget's own words in every language (`GET …/texts`). App environment."""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.channels.messages import FROM_STAFF, TOO_MANY_MESSAGES
from bot.i18n.catalog import resolve_language
from bot.i18n.formatting import babel_locale, translate
from bot.i18n.labels import N_
from bot.languages import ENDONYMS, SUPPORTED_LANGUAGES, text_direction

# The assistant's replies come from the NLG endpoint; these are only the texts around them.

# The longest message the widget sends, in characters (the web app refuses longer ones).
MAX_MESSAGE_CHARS = 2_000

# The widget's key for each text -> its English msgid.
WIDGET_TEXTS: dict[str, str] = {
    # TRANSLATOR: The round button on a city's web page that opens the chat.
    "open": N_("Questions? Chat with us"),
    # TRANSLATOR: The chat window's title: the assistant's name.
    "title": N_("Welcome Desk"),
    # TRANSLATOR: The first message in an empty chat, shown by the chat window itself.
    "intro": N_(
        "Hello! Ask me about registering your address, language courses, housing, work "
        "and more. Write in your own language."
    ),
    # TRANSLATOR: Button (read aloud by screen readers): closes the chat window.
    "close": N_("Close the chat"),
    # TRANSLATOR: Label of the menu of languages above the chat.
    "language": N_("Language"),
    # TRANSLATOR: First choice in the language menu: the browser's language is used.
    "language_auto": N_("Automatic"),
    # TRANSLATOR: Label of the text field where the user writes.
    "message": N_("Your message"),
    # TRANSLATOR: Hint inside the empty text field.
    "placeholder": N_("Write your question…"),
    # TRANSLATOR: Button that sends the message.
    "send": N_("Send"),
    # TRANSLATOR: Button: clears the conversation and starts a new one.
    "start_over": N_("Start over"),
    # TRANSLATOR: Button: prints the conversation (or saves it as PDF).
    "print": N_("Print"),
    # TRANSLATOR: Button: hands the chat over to a member of the welcome centre's staff.
    "person": N_("Talk to a person"),
    "from_staff": FROM_STAFF,
    # TRANSLATOR: Button on an office's card: downloads the card as a text file.
    "save": N_("Save"),
    # TRANSLATOR: Button on an office's card: shows the rest of its details.
    "more": N_("More"),
    # TRANSLATOR: Button on an office's card: hides the details again.
    "less": N_("Less"),
    # TRANSLATOR: Link under an office's address: opens OpenStreetMap.
    "map": N_("Map"),
    # TRANSLATOR: Read aloud before each message the user wrote.
    "you": N_("You"),
    # TRANSLATOR: Read aloud before each message of the assistant.
    "assistant": N_("Assistant"),
    # TRANSLATOR: Name of the list of messages, read aloud by screen readers.
    "conversation": N_("Conversation"),
    # TRANSLATOR: Shown while the assistant is writing its answer.
    "typing": N_("The assistant is writing…"),
    # TRANSLATOR: Button: sends the user's position to find the nearest office.
    "share_location": N_("Share my location"),
    # TRANSLATOR: Shown in the chat as the user's message when they share their position.
    "my_location": N_("My location"),
    # TRANSLATOR: The browser did not give the user's position.
    "location_unavailable": N_(
        "Your position is not available. You can write your district or postcode."
    ),
    # TRANSLATOR: The user's message is too long; {max} is a number ("2,000").
    "too_long": N_("Your message is too long. Please write at most {max} characters."),
    # TRANSLATOR: The assistant's server does not answer; the user can try again.
    "unavailable": N_("The assistant is not available right now. Please try again in a minute."),
    "rate_limited": TOO_MANY_MESSAGES,
    # TRANSLATOR: The phone or computer lost its internet connection.
    "offline": N_("No connection. Your message will be sent when you are back online."),
    # TRANSLATOR: Button after an error: sends the message again.
    "retry": N_("Try again"),
    # TRANSLATOR: The message could not be sent for another reason.
    "refused": N_("This message could not be sent. Please write it again."),
}


def widget_texts(language: str) -> dict[str, object]:
    """The widget's texts in `language` (English when it has no catalog), its direction,
    and the language menu (each language in its own name)."""
    lang = resolve_language(language)
    longest = format_decimal(MAX_MESSAGE_CHARS, locale=babel_locale(lang))
    values = {"max": longest}
    return {
        "language": lang,
        "direction": text_direction(lang),
        "max_message_chars": MAX_MESSAGE_CHARS,
        "texts": {key: translate(lang, msgid, **values) for key, msgid in WIDGET_TEXTS.items()},
        "languages": [
            {"code": code, "name": ENDONYMS[code], "direction": text_direction(code)}
            for code in SUPPORTED_LANGUAGES
        ],
    }


def preferred_language(preferences: str) -> str | None:
    """The first supported language in a browser's list ("de-AT,en;q=0.8" -> "de")."""
    for preference in preferences.split(","):
        code = preference.split(";", 1)[0].strip().replace("_", "-").lower().split("-", 1)[0]
        if code in SUPPORTED_LANGUAGES:
            return code
    return None

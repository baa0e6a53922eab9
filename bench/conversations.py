"""The scripted conversations `make bench` sends: Welcome Desk's multilingual mix, the baseline's.

App environment. Standard library only. Each conversation is one sender's turns, with the
REST channel's metadata (Welcome Desk gets a city, as the widget on a city's page sends it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Conversation:
    """One sender's messages, sent in order, each expected to get at least one reply."""

    turns: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    def payload(self, sender: str, text: str) -> dict[str, Any]:
        """The REST channel's request body for one turn."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if self.metadata:
            body["metadata"] = self.metadata
        return body


def _in(city: str, *turns: str) -> Conversation:
    return Conversation(turns=turns, metadata={"city": city})


# What newcomers send on a city's page, in the ten languages the assistant chats in:
# a greeting, a topic question, follow-ups about the offices just shown, a goodbye.
WELCOME_DESK_CONVERSATIONS: tuple[Conversation, ...] = (
    _in("dortmund", "Hallo", "Wo kann ich mich anmelden?", "Ist es morgen offen?", "Danke"),
    _in("wien", "Guten Tag", "Ich suche einen Deutschkurs", "Wo ist das?", "Tschüss"),
    _in("dortmund", "Hi", "I need help finding a flat", "is it open tomorrow?", "thanks, bye"),
    _in("wien", "Hello", "Where can I get health insurance?", "do they speak Arabic?", "thank you"),
    _in("dortmund", "Привіт", "Де зареєструватися для тимчасового захисту?", "Чи відкрито завтра?"),
    _in("wien", "Добрий день", "Шукаю курси німецької мови", "Де це знаходиться?", "Дякую"),
    _in("dortmund", "Здравствуйте", "Где можно найти работу?", "Открыто ли завтра?", "Спасибо"),
    _in("wien", "Привет", "Как признать мой диплом?", "Что нужно взять с собой?"),
    _in("dortmund", "مرحبا", "أين يمكنني تسجيل السكن؟", "هل هو مفتوح غدا؟", "شكرا"),
    _in("wien", "السلام عليكم", "أحتاج إلى استشارة", "أين يقع؟"),
    _in("dortmund", "سلام", "کجا می‌توانم کلاس زبان آلمانی پیدا کنم؟", "فردا باز است؟", "ممنون"),
    _in("wien", "سلام", "برای پناهندگی کجا باید بروم؟", "آدرسش کجاست؟"),
    _in("dortmund", "Merhaba", "Nerede kayıt olabilirim?", "Yarın açık mı?", "Teşekkürler"),
    _in("wien", "Selam", "Sağlık sigortası için nereye gitmeliyim?", "Türkçe konuşuyorlar mı?"),
    _in("dortmund", "Bonjour", "Je cherche un logement", "Est-ce ouvert demain ?", "Merci"),
    _in("wien", "Salut", "Où puis-je faire reconnaître mon diplôme ?", "Où est-ce ?"),
    _in("dortmund", "Hola", "Necesito un curso de alemán", "¿Está abierto mañana?", "Gracias"),
    _in("wien", "Buenos días", "¿Dónde puedo buscar trabajo?", "¿Dónde está?", "Adiós"),
    _in("dortmund", "Dzień dobry", "Gdzie mogę się zameldować?", "Czy jutro jest otwarte?"),
    _in("wien", "Cześć", "Szukam mieszkania", "Czy mówią po polsku?", "Dziękuję"),
)

# The `rasa init` example bot's own conversations, as the baseline's mix.
BASELINE_CONVERSATIONS: tuple[Conversation, ...] = (
    Conversation(turns=("hi", "I am sad", "yes", "bye")),
    Conversation(turns=("hello", "great", "goodbye")),
    Conversation(turns=("hey", "very unhappy", "no", "bye")),
    Conversation(turns=("are you a bot?", "bye")),
)

# A long conversation repeats one block, so its turns 1-5 and 36-40 are the same messages
# and differ only in how much conversation came before them.
WELCOME_DESK_LONG_BLOCK = _in(
    "dortmund",
    "Wo kann ich mich anmelden?",
    "Ist es morgen offen?",
    "I need a German course",
    "where is it?",
    "Danke",
)
BASELINE_LONG_BLOCK = Conversation(turns=("hi", "I am sad", "yes", "great", "bye"))

# One message of 20,000 characters, and one of 500 for comparison (issue 11, item 4).
LONG_MESSAGE = "Wohnung " * 2500
MEDIUM_MESSAGE = ("Wohnung " * 63)[:500]


class Script(NamedTuple):
    """What one system is sent: its conversation mix, the warm-up, and the long conversation's
    repeated block."""

    mix: tuple[Conversation, ...]
    warm_up: tuple[Conversation, ...]
    long_block: Conversation


SCRIPTS = {
    # One conversation per language warms up each language's path; the conversations come
    # in pairs by language.
    "welcome_desk": Script(
        WELCOME_DESK_CONVERSATIONS, WELCOME_DESK_CONVERSATIONS[::2], WELCOME_DESK_LONG_BLOCK
    ),
    "baseline": Script(BASELINE_CONVERSATIONS, BASELINE_CONVERSATIONS, BASELINE_LONG_BLOCK),
}

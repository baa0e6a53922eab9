"""The topic codes: a contract shared by intents (`ask_<code>`) and the directory taxonomy.

Standard library only: imported by the Rasa and the app environment.
"""

TOPICS: tuple[str, ...] = (
    "registration",
    "language_course",
    "housing",
    "temporary_protection",
    "asylum",
    "employment",
    "recognition",
    "health",
    "education",
    "counselling",
    "money",
)

TOPIC_INTENT_PREFIX = "ask_"

# Where out-of-scope questions and fallbacks are sent: general counselling.
GENERAL_COUNSELLING_TOPIC = "counselling"


def intent_for_topic(topic: str) -> str:
    """Return the intent name that asks about `topic` (e.g. `ask_housing`)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; known topics: {', '.join(TOPICS)}")
    return TOPIC_INTENT_PREFIX + topic


def topic_for_intent(intent: str | None) -> str | None:
    """Return the topic an intent asks about, or None if it is not a topic intent."""
    if intent and intent.startswith(TOPIC_INTENT_PREFIX):
        topic = intent[len(TOPIC_INTENT_PREFIX) :]
        if topic in TOPICS:
            return topic
    return None

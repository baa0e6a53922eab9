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


def topic_for_intent(intent: object) -> str | None:
    """Return the topic an intent asks about, or None if it is not a topic intent."""
    if isinstance(intent, str) and intent.startswith(TOPIC_INTENT_PREFIX):
        topic = intent[len(TOPIC_INTENT_PREFIX) :]
        if topic in TOPICS:
            return topic
    return None


# A message the classifier was not sure about is answered with a question: "which of these
# do you mean?", offering the topics among its best guesses, rather than a guess or a
# request to rephrase. The first guesses come in order of confidence.
TOPICS_TO_CLARIFY = 3
FALLBACK_INTENT = "nlu_fallback"


def topics_to_clarify(intent_ranking: object, most: int = TOPICS_TO_CLARIFY) -> list[str]:
    """The topics among the first `most` intents of an `intent_ranking` (the fallback's own
    entry left out), best first; empty when none of them is a topic."""
    names = [
        entry.get("name")
        for entry in (intent_ranking if isinstance(intent_ranking, list) else [])
        if isinstance(entry, dict) and entry.get("name") != FALLBACK_INTENT
    ]
    return [topic for topic in map(topic_for_intent, names[:most]) if topic]

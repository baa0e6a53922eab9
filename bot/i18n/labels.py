"""Translated labels for topics, groups, opening-hours modes and buttons.

The dictionaries hold English msgids; `topic_label`, `group_label`, `mode_label` and
`choice_buttons` translate them.
"""

from __future__ import annotations

from bot.i18n.catalog import gettext


def N_(message: str) -> str:
    """Mark `message` for extraction (`pybabel extract -k N_`) without translating it."""
    return message


# Used inside "These offices in {city_name} can help with {topic_label}:".
TOPIC_LABELS: dict[str, str] = {
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "registration": N_("registering your address"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "language_course": N_("language courses"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "housing": N_("housing"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "temporary_protection": N_("temporary protection for people from Ukraine"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "asylum": N_("asylum"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "employment": N_("work and jobs"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "recognition": N_("recognition of qualifications"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "health": N_("health and health insurance"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "education": N_("school, childcare and studies"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "counselling": N_("advice and counselling"),
    # TRANSLATOR: Topic; ends "These offices in Dortmund can help with ...".
    "money": N_("money, benefits and bank accounts"),
}

# How an office receives people in an opening period; shown in brackets after the time.
MODE_LABELS: dict[str, str] = {
    # TRANSLATOR: Opening mode: "Open now until 12:00 (walk-in)".
    "walk_in": N_("walk-in"),
    # TRANSLATOR: Opening mode: "Open now until 12:00 (by appointment)".
    "appointment": N_("by appointment"),
    # TRANSLATOR: Opening mode: "Open now until 12:00 (by phone)".
    "phone": N_("by phone"),
    "unspecified": "",
}


# Who a service is only for (codes of bot/eligibility.py). Used in "Only for {groups}" and
# as a reason "For {group}".
GROUP_LABELS: dict[str, str] = {
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "eu_citizens": N_("EU/EEA citizens"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "non_eu_citizens": N_("citizens of countries outside the EU"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "temporary_protection": N_("people under temporary protection (e.g. from Ukraine)"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "asylum_seekers": N_("asylum seekers"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "refugees": N_("people with asylum or subsidiary protection"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "women": N_("women"),
    # TRANSLATOR: Group of people; used in "Only for ..." and "For ...".
    "unaccompanied_minors": N_("unaccompanied minors"),
}


# TRANSLATOR: Where the user is, when they shared their position:
# TRANSLATOR: "These offices are nearest to your location:".
YOUR_LOCATION = N_("your location")


def group_label(group: str, lang: str) -> str:
    """The group's label in `lang`; an unknown code is shown readably."""
    label = GROUP_LABELS.get(group)
    return gettext(lang, label) if label else group.replace("_", " ")


def topic_label(topic: str, lang: str) -> str:
    """The topic's label in `lang`; an unknown topic code is shown readably."""
    label = TOPIC_LABELS.get(topic)
    if label is None:
        return topic.replace("_", " ")
    return gettext(lang, label)


def mode_label(mode: str | None, lang: str) -> str:
    """The mode's label in `lang`; "" for an unknown or unspecified mode."""
    return gettext(lang, MODE_LABELS.get(mode or "", ""))


# The follow-up questions offered as buttons under an answer: code -> (label, payload).
# The payload asks the intent directly, as if the user had typed the question.
FOLLOW_UPS: dict[str, tuple[str, str]] = {
    # TRANSLATOR: Button under an answer (at most 20 characters): the week's hours.
    "hours": (N_("Opening hours"), "/ask_hours"),
    # TRANSLATOR: Button under an answer (at most 20 characters): address and map.
    "address": (N_("Where is it?"), "/ask_address"),
    # TRANSLATOR: Button under an answer (at most 20 characters): documents to bring.
    "documents": (N_("What to bring"), "/ask_documents"),
    # TRANSLATOR: Button under an answer (at most 20 characters): fees.
    "cost": (N_("Costs"), "/ask_cost"),
    # TRANSLATOR: Button under an answer (at most 20 characters): more offices.
    "other_options": (N_("Other offices"), "/ask_other_options"),
}

# The topics as buttons of a clarifying question ("Which of these do you mean?"):
# code "topic:<topic>" -> (label, payload). Short, unlike the TOPIC_LABELS above.
TOPIC_CHOICES: dict[str, tuple[str, str]] = {
    f"topic:{topic}": (label, f"/ask_{topic}")
    for topic, label in {
        # TRANSLATOR: Button, a topic (at most 20 characters): registering an address.
        "registration": N_("Registration"),
        # TRANSLATOR: Button, a topic (at most 20 characters).
        "language_course": N_("Language course"),
        # TRANSLATOR: Button, a topic (at most 20 characters): flat, shelter, rent.
        "housing": N_("Housing"),
        # TRANSLATOR: Button, a topic (at most 20 characters): the status of people from
        # TRANSLATOR: Ukraine.
        "temporary_protection": N_("Protection (Ukraine)"),
        # TRANSLATOR: Button, a topic (at most 20 characters).
        "asylum": N_("Asylum"),
        # TRANSLATOR: Button, a topic (at most 20 characters): work permits, jobs.
        "employment": N_("Work"),
        # TRANSLATOR: Button, a topic (at most 20 characters): of foreign diplomas.
        "recognition": N_("Diploma recognition"),
        # TRANSLATOR: Button, a topic (at most 20 characters): doctors, insurance.
        "health": N_("Health"),
        # TRANSLATOR: Button, a topic (at most 20 characters): school, childcare, university.
        "education": N_("School and childcare"),
        # TRANSLATOR: Button, a topic (at most 20 characters): where to get advice.
        "counselling": N_("Advice"),
        # TRANSLATOR: Button, a topic (at most 20 characters): benefits, bank account.
        "money": N_("Money and benefits"),
    }.items()
}

# Other buttons: none of the topics offered, a person, and the rating of an answer.
OTHER_CHOICES: dict[str, tuple[str, str]] = {
    # TRANSLATOR: Button (at most 20 characters): none of the topics offered above.
    "something_else": (N_("Something else"), "/out_of_scope"),
    # TRANSLATOR: Button (at most 20 characters): hand the chat over to a member of staff.
    "human": (N_("Talk to a person"), "/request_human"),
    # TRANSLATOR: Button (at most 20 characters): stop waiting for staff, chat with the bot.
    "back_to_assistant": (N_("Back to assistant"), "/back_to_assistant"),
    # TRANSLATOR: Button under an answer (at most 20 characters): the answer helped.
    "helpful": (N_("Helpful"), "/answer_helpful"),
    # TRANSLATOR: Button under an answer (at most 20 characters): the answer did not help.
    "not_helpful": (N_("Not helpful"), "/answer_not_helpful"),
}

CHOICES = {**FOLLOW_UPS, **TOPIC_CHOICES, **OTHER_CHOICES}


def choice_buttons(codes: object, lang: str) -> list[dict[str, str]]:
    """Buttons for the choices `codes` (keys of `CHOICES`; unknown codes are left out)."""
    if not isinstance(codes, list | tuple):
        return []
    return [
        {"title": gettext(lang, CHOICES[code][0]), "payload": CHOICES[code][1]}
        for code in codes
        if isinstance(code, str) and code in CHOICES
    ]


# What each emergency number reaches: the `reaches` codes of a city's `emergency_numbers`.
EMERGENCY_SERVICES = {
    # TRANSLATOR: After an emergency number: "112 (emergency)".
    "emergency": N_("emergency"),
    # TRANSLATOR: After an emergency number: "112 (ambulance and fire brigade)".
    "ambulance_fire": N_("ambulance and fire brigade"),
    # TRANSLATOR: After an emergency number: "144 (ambulance)".
    "ambulance": N_("ambulance"),
    # TRANSLATOR: After an emergency number: "110 (police)".
    "police": N_("police"),
}

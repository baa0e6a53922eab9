"""What a message says: which office it picks ("the second one") and who is asking."""

from __future__ import annotations

import pytest

from bot.eligibility import Profile, fit, profile_from_text, profile_from_topic
from bot.ordinals import option_index, pick


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("the second one", 1),
        ("Nr. 2", 1),
        ("#3", 2),
        ("die zweite bitte", 1),
        ("die fuenfte", 4),
        ("другий", 1),
        ("расскажи про третий", 2),
        ("بدي اعرف كل شي عن التاني", 1),
        ("الأول", 0),
        ("دومی", 1),
        ("۲", 1),
        ("dovomi", 1),
        ("ikincisi", 1),
        ("la première", 0),
        ("el último", -1),
        ("ostatnia", -1),
        ("interesuje mnie druga opcja z listy", 1),
    ],
)
def test_the_office_a_message_picks(text, index):
    assert option_index(text) == index


@pytest.mark.parametrize("text", ["", "hallo", "wo ist das?", None])
def test_no_position_is_no_pick(text):
    assert option_index(text) is None


def test_pick_stays_inside_the_list():
    shown = ["a", "b", "c"]
    assert pick(shown, 1) == "b" and pick(shown, -1) == "c"
    assert pick(shown, 6) is None and pick(shown, None) is None and pick([], 0) is None


@pytest.mark.parametrize(
    ("text", "groups", "age"),
    [
        ("Ich bin 22 und habe vorübergehenden Schutz", {"temporary_protection"}, 22),
        ("I am an EU citizen", {"eu_citizens"}, None),
        ("Ich komme aus Syrien, nicht aus der EU", {"non_eu_citizens"}, None),
        ("عمري 19 سنة", set(), 19),
        ("من ۲۵ سالمه", set(), 25),
        ("мне 17 лет", set(), 17),
        ("Я шукач притулку", {"asylum_seekers"}, None),
        ("tengo 30 años", set(), 30),
        ("I am 3 km away", set(), None),
        ("Wo melde ich mich an?", set(), None),
        ("Beratung für Frauen in Wien", {"women"}, None),
        ("استشارة للنساء في فيينا", {"women"}, None),
        ("Kadınlar için danışmanlık var mı?", {"women"}, None),
        ("Ben bir sığınmacıyım, çalışabilir miyim?", {"asylum_seekers"}, None),
        ("Ich habe kein Vertrauen in Ämter", set(), None),
    ],
)
def test_what_a_message_says_about_its_writer(text, groups, age):
    profile = profile_from_text(text)
    assert set(profile.groups) == groups and profile.age == age


def test_a_topic_suggests_a_group_and_newer_facts_win():
    profile = profile_from_topic("asylum")
    assert profile.groups == {"asylum_seekers"}
    later = Profile(frozenset({"eu_citizens"}), 30).updated(profile_from_text("nicht aus der EU"))
    assert later.groups == {"non_eu_citizens"} and later.age == 30
    assert Profile.from_slot(later.as_slot()) == later
    assert Profile.from_slot("garbage") == Profile()


def test_how_a_service_fits():
    refugee = Profile(frozenset({"temporary_protection"}), 22)
    assert fit(["eu_citizens"], None, None, refugee).excluded
    assert fit(["temporary_protection"], None, None, refugee).matches == ("temporary_protection",)
    assert fit([], 6, 25, refugee).age_fits is True
    assert fit([], 30, None, refugee).excluded
    # Nothing known about being a woman: shown as a condition, not ruled out.
    women_only = fit(["women"], None, None, refugee)
    assert not women_only.excluded and women_only.only_for == ("women",)
    assert not fit(["eu_citizens"], None, None, Profile()).excluded

"""What the assistant asks the directory: cities, services for a topic, and their cards.

App environment. All functions take an `AsyncSession`; texts are returned in the asked
language where the directory has a translation, else in English, else the city's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.directory.models import (
    Attribute,
    City,
    Language,
    Location,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from bot.directory.opening_hours import (
    Closure,
    OpeningStatus,
    WeeklyHours,
    city_holidays,
    opening_status,
)
from bot.folding import fold_for_matching


async def all_cities(session: AsyncSession) -> list[City]:
    return list((await session.scalars(select(City).order_by(City.name))).all())


async def find_city(session: AsyncSession, name: str | None) -> City | None:
    """The city called `name` (slug, own name, a language's name or an alias), or None."""
    if not name or not name.strip():
        return None
    wanted = fold_for_matching(name)
    for city in await all_cities(session):
        known = {city.slug, city.name, *city.names.values(), *city.aliases}
        if wanted in {fold_for_matching(name) for name in known}:
            return city
    return None


async def city_by_slug(session: AsyncSession, slug: str | None) -> City | None:
    if not slug:
        return None
    return await session.scalar(select(City).where(City.slug == slug))


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int, language: str | None):
    return city_holidays(country, subdivision, [year - 1, year, year + 1], language=language)


def _text(service: Service, field: str, language: str, city_language: str) -> str | None:
    """A translated field: the asked language, else English, else the city's language."""
    by_language = {t.language: getattr(t, field) for t in service.translations}
    for lang in (language, "en", city_language):
        if by_language.get(lang):
            return by_language[lang]
    return None


@dataclass(frozen=True)
class ServiceAnswer:
    """One service as the assistant shows it, in one language, at one moment."""

    service: Service
    city: City
    language: str
    now: datetime
    status: OpeningStatus

    @property
    def review_due(self) -> bool:
        due = self.service.last_reviewed_at + timedelta(days=self.service.review_interval_days)
        return self.now.date() > due

    def text(self, field: str) -> str | None:
        return _text(self.service, field, self.language, self.city.default_language)

    def address(self) -> str | None:
        for link in self.service.service_at_locations:
            for address in link.location.addresses:
                place = " ".join(p for p in (address.postal_code, address.city) if p)
                return f"{address.address_1}, {place}" if place else address.address_1
        return None

    def card(self) -> dict:
        """The language-neutral facts the NLG endpoint renders as a service card."""
        service, status = self.service, self.status
        return {
            "id": service.id,
            "name": self.text("name") or service.name,
            "description": self.text("description"),
            "address": self.address(),
            "timezone": self.city.timezone,
            "opening": {
                "known": status.known,
                "now": self.now.isoformat(),
                "is_open": status.is_open,
                "mode": status.current.mode if status.current else None,
                "closes_at": status.current.closes.isoformat() if status.current else None,
                "next_opening": (
                    status.next_opening.opens.isoformat() if status.next_opening else None
                ),
                "next_mode": status.next_opening.mode if status.next_opening else None,
                "closed_today_reason": status.closed_today_reason,
                "holiday_name": status.holiday_name,
                "closure_reason": status.closure_reason,
                "appointment_only": service.appointment_only,
                "hours_note": self.text("hours_note"),
            },
            "languages": [language.code for language in service.languages],
            "interpreters": service.interpreters,
            "phone": service.phones[0].number if service.phones else None,
            "email": service.email,
            "url": service.url,
            "last_reviewed_at": service.last_reviewed_at.isoformat(),
            "review_due": self.review_due,
            "source_url": service.source_url,
        }


def service_status(service: Service, city: City, now: datetime, language: str) -> OpeningStatus:
    """Where `service` stands at `now`, with the city's public holidays and its closures."""
    tz = ZoneInfo(city.timezone)
    local = now.astimezone(tz)
    hours = [
        WeeklyHours(
            byday=frozenset(s.byday.split(",")),
            opens_at=s.opens_at,
            closes_at=s.closes_at,
            mode=s.attending_type,
            valid_from=s.valid_from,
            valid_to=s.valid_to,
        )
        for s in service.schedules
    ]
    closures = [
        Closure(
            first_day=e.first_day,
            last_day=e.last_day,
            reason=e.reason.get(language) or e.reason.get("en"),
        )
        for e in service.exceptions
    ]
    public_holidays = _holidays(city.country, city.holiday_subdivision, local.year, language)
    return opening_status(hours, now, tz, public_holidays=public_holidays, closures=closures)


def _rank(answer: ServiceAnswer, topic_count: int) -> tuple:
    """Higher is better: speaks the language, open now or soon, specialised, complete."""
    service, status = answer.service, answer.status
    codes = {language.code for language in service.languages}
    score = 0.0
    if answer.language in codes:
        score += 3
    elif service.interpreters:
        score += 1
    if status.is_open:
        score += 2
    elif status.next_opening and status.next_opening.opens - answer.now < timedelta(days=1):
        score += 1
    if status.known:
        score += 1
    if answer.address():
        score += 1
    score += 2 / topic_count  # an office for this one thing beats a general first stop
    if not answer.review_due:
        score += 0.5
    return (-score, answer.text("name") or service.name)


def _with_everything(query):
    return query.options(
        selectinload(Service.translations),
        selectinload(Service.phones),
        selectinload(Service.languages),
        selectinload(Service.schedules),
        selectinload(Service.exceptions),
        selectinload(Service.service_at_locations)
        .selectinload(ServiceAtLocation.location)
        .selectinload(Location.addresses),
    )


async def services_for_topic(
    session: AsyncSession,
    city: City,
    topic: str,
    language: str,
    now: datetime,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """The `limit` active services of `city` for `topic` that fit best, best first."""
    has_topic = exists().where(
        Attribute.link_id == Service.id,
        Attribute.taxonomy_term_id == TaxonomyTerm.id,
        TaxonomyTerm.code == topic,
    )
    query = _with_everything(
        select(Service).where(Service.city_id == city.id, Service.status == "active", has_topic)
    )
    services = (await session.scalars(query)).all()
    if not services:
        return []
    topic_counts = dict(
        (
            await session.execute(
                select(Attribute.link_id, func.count())
                .where(Attribute.link_id.in_([s.id for s in services]))
                .group_by(Attribute.link_id)
            )
        ).all()
    )
    answers = [
        ServiceAnswer(s, city, language, now, service_status(s, city, now, language))
        for s in services
    ]
    answers.sort(key=lambda a: _rank(a, topic_counts.get(a.service.id, 1)))
    return answers[:limit]


async def services_for_language(
    session: AsyncSession,
    city: City,
    code: str,
    language: str,
    now: datetime,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """Active services of `city` delivered in the language `code`, then ones with interpreters."""
    speaks = exists().where(Language.service_id == Service.id, Language.code == code)
    query = _with_everything(
        select(Service).where(
            Service.city_id == city.id,
            Service.status == "active",
            or_(speaks, Service.interpreters.is_(True)),
        )
    )
    services = (await session.scalars(query)).all()
    answers = [
        ServiceAnswer(s, city, language, now, service_status(s, city, now, language))
        for s in services
    ]
    answers.sort(
        key=lambda a: (
            code not in {lang.code for lang in a.service.languages},
            a.service.id != city.general_counselling_service_id,
            a.text("name") or a.service.name,
        )
    )
    return answers[:limit]


async def service_answer(
    session: AsyncSession, city: City, service_id: str | None, language: str, now: datetime
) -> ServiceAnswer | None:
    """One service of `city` by id (e.g. the city's general counselling), if it is active."""
    if not service_id:
        return None
    query = _with_everything(
        select(Service).where(
            Service.id == service_id, Service.city_id == city.id, Service.status == "active"
        )
    )
    service = await session.scalar(query)
    if service is None:
        return None
    return ServiceAnswer(service, city, language, now, service_status(service, city, now, language))

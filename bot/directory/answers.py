"""One office as the assistant shows it: its card and details, worked out for a moment and a
language, and the few ways to get them by id. App environment.

Texts come in the asked language where the directory has a translation, else in English,
else in the city's language. The card (`bot.cards.ServiceCard`) is what `bot.i18n` renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import DayFacts, OpeningFacts, Reason, ServiceCard, ServiceDetails
from bot.directory.facts import (
    ServiceFacts,
    ServiceLocation,
    is_review_due,
    load_service_facts,
)
from bot.directory.models import City, Language, Service
from bot.directory.opening_hours import (
    Closure,
    DayPlan,
    OpeningStatus,
    day_plans,
    opening_status,
)
from bot.directory.phones import display_phone
from bot.directory.public_holidays import region_holidays
from bot.directory.sql import is_listed


def text_languages(language: str, city: City) -> tuple[str, ...]:
    """Where a text comes from: the asked language, else English, else the city's language."""
    return tuple(dict.fromkeys((language, "en", city.default_language)))


def service_closures(service: ServiceFacts, language: str) -> list[Closure]:
    """The service's closures, with their reasons in `language` (else English)."""
    return [
        Closure(c.first_day, c.last_day, c.reason.get(language) or c.reason.get("en"))
        for c in service.closures
    ]


def city_calendar(
    city: City, now: datetime, language: str
) -> tuple[ZoneInfo, holidays.HolidayBase]:
    """The city's time zone and its public holidays around `now`, named in `language`."""
    tz = ZoneInfo(city.timezone)
    year = now.astimezone(tz).year
    return tz, region_holidays(city.country, city.holiday_subdivision, year, language)


def service_status(
    service: ServiceFacts, city: City, now: datetime, language: str
) -> OpeningStatus:
    """Where `service` stands at `now`, with the city's public holidays and its closures."""
    tz, public_holidays = city_calendar(city, now, language)
    return opening_status(
        service.hours,
        now,
        tz,
        public_holidays=public_holidays,
        closures=service_closures(service, language),
    )


def service_week(
    service: ServiceFacts, city: City, now: datetime, language: str, days: int = 7
) -> list[DayPlan]:
    """The service's opening on each of `days` local days from today (empty: unknown)."""
    tz, public_holidays = city_calendar(city, now, language)
    return day_plans(
        service.hours, now, tz, public_holidays, service_closures(service, language), days
    )


def _day_facts(plan: DayPlan) -> DayFacts:
    return {
        "date": plan.day.isoformat(),
        "periods": [
            {"opens": p.opens.isoformat(), "closes": p.closes.isoformat(), "mode": p.mode}
            for p in plan.periods
        ],
        "closed_by": plan.closed_by,
        "holiday_name": plan.holiday_name,
        "closure_reason": plan.closure_reason,
    }


@dataclass(frozen=True)
class ServiceAnswer:
    """One service as the assistant shows it, in one language, at one moment."""

    service: ServiceFacts
    city: City
    language: str
    now: datetime
    status: OpeningStatus
    # nearest_services, or a search near the user: how far the service's nearest location
    # is from the user, and which location that is (its address is the one shown).
    distance_m: float | None = None
    location_id: str | None = None
    # Why it was chosen, as language-neutral facts the card renders ("speaks Ukrainian").
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def review_due(self) -> bool:
        service = self.service
        return is_review_due(
            service.last_reviewed_at, service.review_interval_days, self.now.date()
        )

    def text(self, field: str) -> str | None:
        return self.service.text(field, text_languages(self.language, self.city))

    def _locations(self) -> list[ServiceLocation]:
        # The location the distance is measured to comes first.
        return sorted(self.service.locations, key=lambda loc: loc.id != self.location_id)

    def address(self) -> str | None:
        return next((loc.address for loc in self._locations() if loc.address), None)

    def coordinates(self) -> tuple[float, float] | None:
        """The shown location's latitude and longitude, if the directory has them."""
        for location in self._locations():
            if location.latitude is not None and location.longitude is not None:
                return (location.latitude, location.longitude)
        return None

    def _opening(self) -> OpeningFacts:
        status, current, upcoming = self.status, self.status.current, self.status.next_opening
        return {
            "known": status.known,
            "now": self.now.isoformat(),
            "is_open": status.is_open,
            "mode": current.mode if current else None,
            "closes_at": current.closes.isoformat() if current else None,
            "next_opening": upcoming.opens.isoformat() if upcoming else None,
            "next_mode": upcoming.mode if upcoming else None,
            "closed_today_reason": status.closed_today_reason,
            "holiday_name": status.holiday_name,
            "closure_reason": status.closure_reason,
            "appointment_only": self.service.appointment_only,
            "hours_note": self.text("hours_note"),
        }

    def card(self) -> ServiceCard:
        """The facts the NLG endpoint renders as a service card."""
        service, coordinates = self.service, self.coordinates()
        return {
            "id": service.id,
            "name": self.text("name") or service.name,
            "description": self.text("description"),
            "address": self.address(),
            "timezone": self.city.timezone,
            "opening": self._opening(),
            "languages": list(service.languages),
            "interpreters": service.interpreters,
            "eligible_groups": list(service.eligible_groups or ()),
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "reasons": list(self.reasons),
            "phone": display_phone(service.phones[0]) if service.phones else None,
            "email": service.email,
            "url": service.url,
            "last_reviewed_at": service.last_reviewed_at.isoformat(),
            "review_due": self.review_due,
            "source_url": service.source_url,
            "distance_m": round(self.distance_m) if self.distance_m is not None else None,
            "latitude": coordinates[0] if coordinates else None,
            "longitude": coordinates[1] if coordinates else None,
        }

    def details(self) -> ServiceDetails:
        """The card plus what follow-up questions ask: hours of the coming days, what to
        bring, fees, who it is for."""
        week = service_week(self.service, self.city, self.now, self.language)
        return {
            **self.card(),
            "days": [_day_facts(plan) for plan in week],
            "documents": self.text("application_process"),
            "fees": self.text("fees_description"),
            "eligibility": self.text("eligibility_description"),
        }


async def load_answers(
    session: AsyncSession,
    city: City,
    ids: list[str],
    language: str,
    now: datetime,
    extras: dict[str, dict] | None = None,
) -> list[ServiceAnswer]:
    """Answers for the services `ids` that exist, in that order, whatever their city or
    status (the searches have checked both). `extras` gives more fields of each answer by
    id (distance_m, location_id, reasons)."""
    by_id = await load_service_facts(session, ids, text_languages(language, city))
    extras = extras or {}
    return [
        ServiceAnswer(
            by_id[i],
            city,
            language,
            now,
            service_status(by_id[i], city, now, language),
            **extras.get(i, {}),
        )
        for i in ids
        if i in by_id
    ]


async def answers_by_id(
    session: AsyncSession, city: City, ids: list[str], language: str, now: datetime
) -> list[ServiceAnswer]:
    """The active services `ids` of `city`, in that order (e.g. the offices just shown)."""
    answers = await load_answers(session, city, ids, language, now)
    return [a for a in answers if a.service.city_id == city.id and a.service.status == "active"]


async def general_counselling(
    session: AsyncSession, city: City, language: str, now: datetime
) -> ServiceAnswer | None:
    """The city's first stop for any question (its general counselling), if it is active."""
    service_id = city.general_counselling_service_id
    answers = await answers_by_id(session, city, [service_id], language, now) if service_id else []
    return answers[0] if answers else None


async def services_for_language(
    session: AsyncSession,
    city: City,
    code: str,
    language: str,
    now: datetime,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """Active services of `city` delivered in the language `code`, then ones with
    interpreters; the city's general counselling first among equals, then by name."""
    speaks = exists().where(Language.service_id == Service.id, Language.code == code)
    ids = await session.scalars(
        select(Service.id)
        .where(
            Service.city_id == city.id,
            is_listed(),
            or_(speaks, Service.interpreters.is_(True)),
        )
        .order_by(
            speaks.desc(),
            (Service.id == (city.general_counselling_service_id or "")).desc(),
            Service.name,
            Service.id,
        )
        .limit(limit)
    )
    return await load_answers(session, city, list(ids), language, now)

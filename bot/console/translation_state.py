"""Which translations of a service are missing, outdated or current. App environment.

A translation is *outdated* when the city language's texts changed after it did (the
dates come from `service_translation.updated_at`, which a save changes only for a
language whose wording changed), *missing* when it has no name and no description.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import City, ServiceTranslation
from bot.languages import SUPPORTED_LANGUAGES

STATES = ("missing", "outdated", "current")


async def translation_states(
    session: AsyncSession, service_ids: list[str], city: City
) -> dict[str, dict[str, str]]:
    """{service id: {language: state}} for the assistant's languages (the city's own
    language is the source: always "current" when present)."""
    rows = (
        await session.scalars(
            select(ServiceTranslation).where(ServiceTranslation.service_id.in_(service_ids))
        )
    ).all()
    by_service: dict[str, dict[str, ServiceTranslation]] = {}
    for row in rows:
        by_service.setdefault(row.service_id, {})[row.language] = row
    states = {}
    for service_id in service_ids:
        translations = by_service.get(service_id, {})
        source = translations.get(city.default_language)
        states[service_id] = {
            language: _state(translations.get(language), source) for language in SUPPORTED_LANGUAGES
        }
    return states


def _state(row: ServiceTranslation | None, source: ServiceTranslation | None) -> str:
    if row is None or not (row.name or row.description):
        return "missing"
    if source is not None and row is not source and row.updated_at < source.updated_at:
        return "outdated"
    return "current"

"""Database tables of the service directory, after Open Referral HSDS 3 plus named extensions.

App environment. HSDS tables keep their names (`organization`, `service`, `location`, ...);
extensions are `city`, `service_translation`, `schedule_exception`, `audit_event` (the
history staff can restore from), `service_shown` and `content_gap` (what newcomers saw and
what the assistant could not answer), `answer_feedback` (how newcomers rated answers), and
the review and editing columns on `service`.
Staff accounts live in bot/console/models.py, on the same `Base`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable UUIDs: the same city slug and entry id always give the same row id, so links
# from outside (exports, bookmarks, conversation slots) survive a re-import.
ID_NAMESPACE = uuid.UUID("6f1d3f0e-8c51-4a53-9a52-0f5c7e2f9a10")


def stable_id(*parts: str) -> str:
    """A UUID string derived from the given parts (e.g. city slug and entry id)."""
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts)))


class Base(DeclarativeBase):
    pass


class City(Base):
    """Extension: a city whose directory the assistant serves."""

    __tablename__ = "city"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Other names people use for the city, by language ({"en": "Vienna"}).
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # More spellings to recognise (inflected forms, transliterations): "Wiedniu", "Wenen".
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    default_language: Mapped[str] = mapped_column(String(16))
    general_counselling_service_id: Mapped[str | None] = mapped_column(String(36))
    # What to call in an emergency, as the data file gives it: [{"number": "112",
    # "reaches": "ambulance_fire"}] (codes of bot/i18n/labels.py's EMERGENCY_SERVICES).
    # Empty = not known: the handoff answer then gives 112, which works across the EU.
    emergency_numbers: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # Districts and their postcodes, so "I live in Hörde" or "1100" becomes a point for the
    # nearest-office search: [{"name", "aliases", "postcodes", "latitude", "longitude"}].
    districts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # Bumped by every write to the city's directory (bot/directory/editing.py), so a reader
    # that keeps anything about the city can tell that it changed.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    services: Mapped[list[Service]] = relationship(back_populates="city")


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), index=True)
    # The id used in the city's data file (e.g. "stadt-dortmund").
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500))
    # Extension: editing, as on `service` (optimistic locking, who saved last and when).
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(200))


class Service(Base):
    """HSDS `service`; `name`/`description` hold the city's default language."""

    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("city_id", "slug"),
        Index("ix_service_city_status", "city_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # The id used in the city's data file (e.g. "do-migrado-friedensplatz").
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500))
    # Extension: interpreters on request (None = not known).
    interpreters: Mapped[bool | None] = mapped_column(Boolean)
    # Extension: only by appointment (None = not known).
    appointment_only: Mapped[bool | None] = mapped_column(Boolean)
    # Extension: review data.
    last_reviewed_at: Mapped[date] = mapped_column(Date)
    reviewed_by: Mapped[str] = mapped_column(String(200))
    review_interval_days: Mapped[int] = mapped_column(Integer, default=365)
    source_url: Mapped[str | None] = mapped_column(String(1000))
    # HSDS 3 `minimum_age` / `maximum_age`: who the service is for, in years.
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    # Extension: the service is only for these groups (codes of bot/eligibility.py);
    # empty = open to everyone. Ranking puts services for the user's group first.
    eligible_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Extension: editing. `version` counts saves (optimistic locking: a save names the
    # version it started from); who saved last and when; a deleted service keeps its rows
    # until restored, and no answer shows it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The whole entry in its data-file form (bot/directory/entries.py), as last saved: what
    # the console edits, the history keeps and the exports write. The rows above and below
    # are written from it, for the assistant's queries.
    entry: Mapped[dict] = mapped_column(JSON, default=dict)

    city: Mapped[City] = relationship(back_populates="services")
    organization: Mapped[Organization] = relationship()
    translations: Mapped[list[ServiceTranslation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    phones: Mapped[list[Phone]] = relationship(cascade="all, delete-orphan")
    languages: Mapped[list[Language]] = relationship(cascade="all, delete-orphan")
    schedules: Mapped[list[Schedule]] = relationship(cascade="all, delete-orphan")
    exceptions: Mapped[list[ScheduleException]] = relationship(cascade="all, delete-orphan")
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        cascade="all, delete-orphan"
    )
    attributes: Mapped[list[Attribute]] = relationship(cascade="all, delete-orphan")


class ServiceTranslation(Base):
    """Extension: a service's texts in one language (one row per service and language)."""

    __tablename__ = "service_translation"
    __table_args__ = (UniqueConstraint("service_id", "language"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    # What to bring (HSDS `application_process` is the closest standard field).
    application_process: Mapped[str | None] = mapped_column(Text)
    hours_note: Mapped[str | None] = mapped_column(Text)
    machine_translated: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    service: Mapped[Service] = relationship(back_populates="translations")


class Location(Base):
    __tablename__ = "location"
    # Nearest-office search: a bounding box on latitude, then longitude within the index.
    __table_args__ = (Index("ix_location_latitude_longitude", "latitude", "longitude"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    addresses: Mapped[list[Address]] = relationship(cascade="all, delete-orphan")


class ServiceAtLocation(Base):
    __tablename__ = "service_at_location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), index=True
    )

    location: Mapped[Location] = relationship()


class Address(Base):
    __tablename__ = "address"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_id: Mapped[str] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    address_1: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    address_type: Mapped[str] = mapped_column(String(20), default="physical")


class Phone(Base):
    __tablename__ = "phone"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(50))


class Schedule(Base):
    """HSDS `schedule`: a weekly opening period (iCal freq/byday)."""

    __tablename__ = "schedule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    freq: Mapped[str] = mapped_column(String(10), default="WEEKLY")
    byday: Mapped[str] = mapped_column(String(30))  # "MO,TU,TH"
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # HSDS 3 `attending_type`: walk_in, appointment, phone or unspecified.
    attending_type: Mapped[str] = mapped_column(String(20), default="unspecified")


class ScheduleException(Base):
    """Extension: days a service is closed (holidays of its own, closures)."""

    __tablename__ = "schedule_exception"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    # The reason by language ({"en": "Christmas break", "de": "Weihnachtspause"}).
    reason: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Language(Base):
    """HSDS `language`: a language the service is delivered in (not a translation)."""

    __tablename__ = "language"
    __table_args__ = (Index("ix_language_code_service", "code", "service_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16))


TOPICS_TAXONOMY = "welcome-desk-topics"  # the codes of bot/topics.py
NEEDS_TAXONOMY = "welcome-desk-needs"  # the sub-needs under them, bot/needs.py


class TaxonomyTerm(Base):
    """HSDS `taxonomy_term`: the topics, and the needs under them ("education/school")."""

    __tablename__ = "taxonomy_term"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    taxonomy: Mapped[str] = mapped_column(String(64), default=TOPICS_TAXONOMY)


class Attribute(Base):
    """HSDS `attribute`: links a service to a taxonomy term."""

    __tablename__ = "attribute"
    __table_args__ = (Index("ix_attribute_term_link", "taxonomy_term_id", "link_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Indexed on its own too: a service's topics (ranking, and deleting a city).
    link_id: Mapped[str] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    link_type: Mapped[str] = mapped_column(String(32), default="service")
    taxonomy_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_term.id"))


class AuditEvent(Base):
    """Extension: what changed in the directory, when and by whom; for a service, the
    whole entry before and after (its data-file form), so any version can be restored."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    summary: Mapped[str] = mapped_column(Text)
    city_id: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int | None] = mapped_column(Integer)  # the entry's version after it
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class ServiceShown(Base):
    """Extension: how often newcomers were shown a service, per day (orders the review list)."""

    __tablename__ = "service_shown"

    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ContentGap(Base):
    """Extension: a message the assistant could not answer (fell back, asked which topic,
    or out of scope), with personal data removed (bot/scrub.py), for staff to act on."""

    __tablename__ = "content_gap"
    __table_args__ = (Index("ix_content_gap_city_at", "city_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city_id: Mapped[str | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W49"
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))  # GAP_KINDS
    topic: Mapped[str | None] = mapped_column(String(64))  # the likeliest topic, if any
    text: Mapped[str] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by: Mapped[str | None] = mapped_column(String(200))


GAP_KINDS = ("fallback", "clarify", "out_of_scope")


class AnswerFeedback(Base):
    """Extension: one tap on "helpful" or "not helpful" under a topic answer, with the
    topic, the offices shown and, behind "not helpful" only, the question with personal
    data removed (bot/scrub.py)."""

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ix_answer_feedback_city_week", "city_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W49"
    language: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(64))
    service_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    helpful: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)

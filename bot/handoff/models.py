"""A handed-over conversation (`handoff_case`) and its messages, on the directory's database.

App environment. A case belongs to the user's city. Staff see its pseudonymous sender id,
language, topic and situation (codes, shown in the staff's language), never a phone
number: `channel_user` holds only what the widget needs to deliver a reply (its random
conversation id); WhatsApp numbers stay in the WhatsApp channel's memory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.directory.models import Base

# new: no one has taken it; claimed: taken, the user wrote last; waiting: staff answered,
# the user has not written since; closed: the assistant answers again.
CASE_STATES = ("new", "claimed", "waiting", "closed")
AUTHORS = ("user", "assistant", "staff")


class HandoffCase(Base):
    __tablename__ = "handoff_case"
    __table_args__ = (
        Index("ix_handoff_case_sender_status", "sender", "status"),
        Index("ix_handoff_case_city_status", "city_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(100))  # the pseudonymous sender id
    channel: Mapped[str] = mapped_column(String(20))
    channel_user: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="new")  # CASE_STATES
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_user_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(300))

    messages: Mapped[list[HandoffMessage]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="HandoffMessage.id"
    )


class HandoffMessage(Base):
    __tablename__ = "handoff_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        ForeignKey("handoff_case.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(16))  # AUTHORS
    staff: Mapped[str | None] = mapped_column(String(300))  # who answered, for "staff"
    text: Mapped[str] = mapped_column(Text)

    case: Mapped[HandoffCase] = relationship(back_populates="messages")

"""The console's inbox: conversations newcomers handed over to a person, per city.

App environment. Admins and city editors see their cities' cases (new; mine: taken by
them, the user wrote last; waiting for the user: staff answered last; closed), take one,
answer, and close it. An answer reaches the user on the channel they wrote from
through the gateway (`Gateway.push`): at once in an open widget; on WhatsApp only within
24 hours of the user's last message (Meta's rule), which the page says. Closing a case
gives the conversation back to the assistant and tells the user so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select

from bot.channels.messages import Reply
from bot.channels.whatsapp import WHATSAPP_KEY
from bot.channels.widget import push_to_widget
from bot.console import accounts
from bot.console.models import StaffUser
from bot.console.views import LANGUAGE_KEY, begin_page, directory_session, render
from bot.directory.answers import general_counselling
from bot.directory.models import AuditEvent, City
from bot.handoff import phrases
from bot.handoff.models import HandoffCase
from bot.handoff.store import add_message, can_send_free_text, close
from bot.i18n.catalog import gettext
from bot.i18n.formatting import language_name
from bot.i18n.labels import CHOICES, group_label, topic_label
from bot.web.nlg import DOMAIN_RESPONSES_KEY

routes = web.RouteTableDef()
STATES = ("new", "mine", "waiting", "closed")
MAX_REPLY_CHARS = 2000


def _staff_only(user: StaffUser) -> None:
    if user.role == "organization_editor":
        raise web.HTTPForbidden(text="the inbox is for the city's staff")


def shown_text(text: str, staff_language: str) -> str:
    """A transcript line as staff read it: a tapped button ("/answer_not_helpful") as
    its label in the staff's language ("[Nicht hilfreich]")."""
    if not text.startswith("/"):
        return text
    payload = text.split("{", 1)[0]
    label = next((title for title, sent in CHOICES.values() if sent == payload), None)
    return f"[{gettext(staff_language, label)}]" if label else text


@routes.get("/console/inbox")
async def inbox(request: web.Request) -> web.Response:
    state = request.query.get("state", "new")
    if state not in STATES:
        state = "new"
    async with directory_session() as session:
        user = await begin_page(request, session)
        _staff_only(user)
        cities = await accounts.visible_cities(session, user)
        query = select(HandoffCase).where(HandoffCase.city_id.in_([c.id for c in cities]))
        if state == "new":
            query = query.where(HandoffCase.status == "new")
        elif state == "mine":
            query = query.where(
                HandoffCase.status == "claimed", HandoffCase.claimed_by == user.email
            )
        elif state == "waiting":
            query = query.where(HandoffCase.status == "waiting")
        else:
            query = query.where(HandoffCase.status == "closed")
        cases = (
            await session.scalars(query.order_by(HandoffCase.created_at.desc()).limit(200))
        ).all()
        return await render(request, "inbox.html", _list_context(request, cases, cities, state))


def _list_context(request, cases, cities, state) -> dict:  # noqa: ANN001
    staff_language = request[LANGUAGE_KEY]
    return {
        "cases": cases,
        "state": state,
        "states": STATES,
        "city_names": {c.id: c.name for c in cities},
        "language_names": {c.id: language_name(c.language, staff_language) for c in cases},
        "topics": {c.id: topic_label(c.topic, staff_language) if c.topic else "" for c in cases},
    }


async def _case_for(session, user: StaffUser, case_id: str) -> tuple[HandoffCase, City]:  # noqa: ANN001
    case = await session.get(HandoffCase, case_id)
    if case is None:
        raise web.HTTPNotFound(text="no such conversation")
    city = await session.get(City, case.city_id)
    if not accounts.can_see_city(user, city):
        raise web.HTTPNotFound(text="no such conversation")
    return case, city


@routes.get("/console/inbox/{id}")
async def case_page(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        _staff_only(user)
        case, city = await _case_for(session, user, request.match_info["id"])
        await session.refresh(case, ["messages"])
        staff_language = request[LANGUAGE_KEY]
        card = await _centre_card(session, city, staff_language)
        return await render(
            request,
            "case.html",
            {
                "case": case,
                "city": city,
                "language_name": language_name(case.language, staff_language),
                "topic": topic_label(case.topic, staff_language) if case.topic else "",
                "groups": [group_label(g, staff_language) for g in case.groups],
                "may_write": can_send_free_text(case, datetime.now(UTC)),
                "shown_text": lambda text: shown_text(text, staff_language),
                "sent": request.query.get("sent"),
                # Each ready-made answer as staff read it; it is sent in the user's language.
                "phrases": [
                    (code, phrases.phrase(code, staff_language, card))
                    for code in phrases.available(card)
                ],
            },
        )


async def _deliver(app: web.Application, case: HandoffCase, replies: Sequence[Reply]) -> bool:
    """Send `replies` to the case's user on their channel; False when it cannot now."""
    if case.channel == "widget" and case.channel_user:
        await push_to_widget(app, case.channel_user, replies)
        return True
    if case.channel == "whatsapp" and WHATSAPP_KEY in app:
        return await app[WHATSAPP_KEY].push(case.sender, replies, case.language)
    return False


def _audit(case: HandoffCase, user: StaffUser, action: str, now: datetime) -> AuditEvent:
    return AuditEvent(
        at=now,
        actor=user.email,
        action=action,
        entity="handoff_case",
        entity_id=case.id,
        city_id=case.city_id,
        summary=f"{action} conversation {case.id}",
    )


@routes.post("/console/inbox/{id}/claim")
async def claim(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        _staff_only(user)
        case, _city = await _case_for(session, user, request.match_info["id"])
        if case.status == "new":
            case.status, case.claimed_by = "claimed", user.email
            session.add(_audit(case, user, "claim", datetime.now(UTC)))
    raise web.HTTPSeeOther(f"/console/inbox/{case.id}")


async def _centre_card(session, city: City, language: str) -> dict | None:  # noqa: ANN001
    """The welcome centre's card (the city's general counselling), for the phrases' facts."""
    centre = await general_counselling(session, city, language, datetime.now(UTC))
    return dict(centre.card()) if centre else None


@routes.post("/console/inbox/{id}/reply")
async def reply(request: web.Request) -> web.Response:
    """Send the typed answer, or a ready-made one (`phrase`) in the user's language."""
    post = await request.post()
    text = str(post.get("text") or "").strip()[:MAX_REPLY_CHARS]
    code = post.get("phrase")
    now = datetime.now(UTC)
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        _staff_only(user)
        case, city = await _case_for(session, user, request.match_info["id"])
        if code in phrases.PHRASES:
            card = await _centre_card(session, city, case.language)
            if code in phrases.available(card):
                text = phrases.phrase(code, case.language, card)
        if not text or case.status == "closed" or not can_send_free_text(case, now):
            raise web.HTTPSeeOther(f"/console/inbox/{case.id}?sent=no")
        delivered = await _deliver(request.app, case, [Reply(text=text, from_staff=True)])
        if delivered:
            session.add(add_message(case, "staff", text, now, staff=user.email))
            session.add(_audit(case, user, "reply", now))
    raise web.HTTPSeeOther(f"/console/inbox/{case.id}?sent={'yes' if delivered else 'no'}")


@routes.post("/console/inbox/{id}/close")
async def close_case(request: web.Request) -> web.Response:
    now = datetime.now(UTC)
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        _staff_only(user)
        case, _city = await _case_for(session, user, request.match_info["id"])
        if case.status != "closed":
            close(case, user.email, now)
            session.add(_audit(case, user, "close", now))
            template = request.app[DOMAIN_RESPONSES_KEY]["utter_handoff_ended"]
            back = gettext(case.language, template)
            if can_send_free_text(case, now):
                await _deliver(request.app, case, [Reply(text=back)])
    raise web.HTTPSeeOther("/console/inbox")

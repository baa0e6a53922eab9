"""The console's feedback page: how newcomers rated the assistant's answers, per week.

App environment. Counts of "helpful" and "not helpful" by topic, office and language for
one week (most "not helpful" first), and the questions behind "not helpful" with personal
data removed (bot/directory/usage.py). Next to the unanswered questions, it shows staff
where answers miss.
"""

from __future__ import annotations

from aiohttp import web

from bot.console import accounts
from bot.console.views import LANGUAGE_KEY, begin_page, directory_session, render
from bot.directory.usage import feedback_week
from bot.i18n.formatting import language_name
from bot.i18n.labels import topic_label

routes = web.RouteTableDef()


@routes.get("/console/feedback")
async def feedback(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        cities = await accounts.visible_cities(session, user)
        report = await feedback_week(
            session, [c.id for c in cities], request.query.get("week") or None
        )
        staff_language = request[LANGUAGE_KEY]
        return await render(
            request,
            "feedback.html",
            {
                "report": report,
                "city_names": {c.id: c.name for c in cities},
                "topic_name": lambda code: topic_label(code, staff_language),
                "language_name": lambda code: language_name(code, staff_language),
                "service_name": lambda service: service.name,
            },
        )

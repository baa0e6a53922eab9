"""`GET /`: a demo city page with the widget's one script tag. App environment."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template

from aiohttp import web

PAGE = Path(__file__).resolve().parent / "static" / "demo-city.html"


@dataclass(frozen=True)
class DemoCity:
    slug: str  # the directory's city slug, passed to the widget as data-city
    name: str
    title: str  # the page's heading
    teaser: str
    colour: str  # the page header's background (white text on it: contrast >= 4.5)


DEMO_CITIES = {
    "dortmund": DemoCity(
        "dortmund",
        "Dortmund",
        "Ankommen in Dortmund",
        "Neu in Dortmund? Hier finden Sie die Stellen, die Ihnen beim Start helfen: "
        "Anmeldung, Sprachkurse, Wohnen, Arbeit, Gesundheit und Beratung.",
        "#8a1538",
    ),
    "wien": DemoCity(
        "wien",
        "Wien",
        "Start Wien – Willkommen in Wien",
        "Neu in Wien? Hier finden Sie die Stellen, die Ihnen beim Start helfen: "
        "Meldezettel, Deutschkurse, Wohnen, Arbeit, Gesundheit und Beratung.",
        "#b3001b",
    ),
}


async def handle_demo_page(request: web.Request) -> web.Response:
    city = DEMO_CITIES.get(request.query.get("city", ""), DEMO_CITIES["dortmund"])
    others = " ".join(
        f'<a href="/?city={other.slug}"{" aria-current=page" if other is city else ""}>'
        f"{escape(other.name)}</a>"
        for other in DEMO_CITIES.values()
    )
    # Absolute, as on a city's own site: the widget finds the web app from its src.
    widget_src = f"{request.scheme}://{request.host}/widget.js"
    page = Template(PAGE.read_text(encoding="utf-8")).substitute(
        city_slug=escape(city.slug),
        city_name=escape(city.name),
        title=escape(city.title),
        teaser=escape(city.teaser),
        colour=city.colour,
        cities=others,
        widget_src=escape(widget_src),
    )
    return web.Response(text=page, content_type="text/html")

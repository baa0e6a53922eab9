"""The offices nearest to a point, on SQLite and PostgreSQL alike (no PostGIS).

App environment. The database only filters a latitude/longitude box around the point on
the indexed columns; exact great-circle distances are worked out here.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Exists, Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.answers import ServiceAnswer, load_answers
from bot.directory.models import City, Location, Service, ServiceAtLocation
from bot.directory.sql import has_topic, is_listed

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG); distances are on this sphere
# The box around the user grows through these radii while it holds fewer than `limit`
# offices; after the last one, every located office of the city is measured.
NEAREST_RADII_M = (2_000.0, 8_000.0, 32_000.0)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _box(latitude: float, longitude: float, radius_m: float) -> dict[str, float]:
    """The smallest latitude/longitude box holding every point within `radius_m`.

    All longitudes when the circle reaches a pole or crosses the antimeridian (then
    latitude alone bounds it).
    """
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    box = {"lat_min": latitude - dlat, "lat_max": latitude + dlat}
    reach = math.sin(angle) / max(math.cos(math.radians(latitude)), 1e-12)
    if box["lat_max"] < 90 and box["lat_min"] > -90 and reach < 1:
        dlon = math.degrees(math.asin(reach))
        if -180 <= longitude - dlon and longitude + dlon <= 180:
            return {**box, "lon_min": longitude - dlon, "lon_max": longitude + dlon}
    return {**box, "lon_min": -180.0, "lon_max": 180.0}


def _is_nearby_candidate(with_topic: bool) -> Exists:
    """The location's service is an active service of the city (and has the topic)."""
    conditions = [
        Service.id == ServiceAtLocation.service_id,
        Service.city_id == bindparam("city_id"),
        is_listed(),
    ]
    if with_topic:
        conditions.append(has_topic(bindparam("topic")))
    return exists().where(*conditions)


@lru_cache(maxsize=2)
def _nearest_in_box_query(with_topic: bool) -> Select:
    """Locations in a box, driven by the latitude/longitude index: the service is checked
    per location (EXISTS), so the planner does not start from all the city's services."""
    return (
        select(ServiceAtLocation.service_id, Location.id, Location.latitude, Location.longitude)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(
            Location.latitude.between(bindparam("lat_min"), bindparam("lat_max")),
            Location.longitude.between(bindparam("lon_min"), bindparam("lon_max")),
            _is_nearby_candidate(with_topic),
        )
    )


@lru_cache(maxsize=2)
def located_offices_query(with_topic: bool) -> Select:
    """Every located office of a city's active services (for a topic): for ranking by
    distance, and the nearest search's last resort. Driven by the city's services."""
    query = (
        select(ServiceAtLocation.service_id, Location.id, Location.latitude, Location.longitude)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(
            Service.city_id == bindparam("city_id"),
            is_listed(),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
        )
    )
    return query.where(has_topic(bindparam("topic"))) if with_topic else query


async def nearest_services(
    session: AsyncSession,
    city: City,
    latitude: float,
    longitude: float,
    language: str,
    now: datetime,
    topic: str | None = None,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """The `limit` active services of `city` (for `topic`, if given) nearest to a point.

    Each answer has `distance_m`: the great-circle distance in metres from the point to
    the service's nearest location. Services without coordinates are never returned. The
    box grows until `limit` services lie within its radius (anything outside the box is
    farther than that).
    """
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"not a point on Earth: latitude {latitude}, longitude {longitude}")
    if limit < 1:
        return []
    with_topic = topic is not None
    parameters: dict = {"city_id": city.id, "topic": topic} if with_topic else {"city_id": city.id}
    for radius in (*NEAREST_RADII_M, None):
        if radius is None:
            rows = await session.execute(located_offices_query(with_topic), parameters)
        else:
            box = _box(latitude, longitude, radius)
            rows = await session.execute(_nearest_in_box_query(with_topic), parameters | box)
        nearest: dict[str, tuple[float, str]] = {}  # service: (distance, location)
        for service_id, location_id, lat, lon in rows:
            distance = haversine_m(latitude, longitude, lat, lon)
            if (distance, location_id) < nearest.get(service_id, (math.inf, "")):
                nearest[service_id] = (distance, location_id)
        found = sorted(
            (distance, service_id, location_id)
            for service_id, (distance, location_id) in nearest.items()
            if radius is None or distance <= radius
        )
        if len(found) >= limit:
            break
    chosen = found[:limit]
    return await load_answers(
        session,
        city,
        [i for _, i, _ in chosen],
        language,
        now,
        {
            i: {
                "distance_m": d,
                "location_id": loc,
                "reasons": ({"kind": "distance", "meters": round(d)},),
            }
            for d, i, loc in chosen
        },
    )

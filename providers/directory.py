"""The directory search of the staff's new-referral page: active services of active partners that
fit a person's need, language, age and eligibility words, with their capacity, how fresh it is, and
the distance from the encounter. (The API's directory list filters with providers.filters.)"""

import math

from django.db.models import Q

from providers.models import Service

MAX_SERVICES = 30
_SCAN = 300  # services read from the directory before the filters that run in Python


def _km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def search_directory(filters: dict, *, origin, now, stale_after) -> list[dict]:
    """Active services of active partners matching the filters, with capacity, freshness and distance.

    Three queries whatever the number of results (services, capacities, locations)."""
    services_qs = Service.objects.filter(status=Service.Status.ACTIVE, organization__is_active=True)
    if filters.get("need"):
        services_qs = services_qs.filter(need_domain=filters["need"])
    if filters.get("age") is not None:
        age = filters["age"]
        services_qs = services_qs.filter(Q(min_age__isnull=True) | Q(min_age__lte=age))
        services_qs = services_qs.filter(Q(max_age__isnull=True) | Q(max_age__gte=age))
    for word in (filters.get("eligibility") or "").split():
        services_qs = services_qs.filter(Q(eligibility__icontains=word) | Q(description__icontains=word))
    services_qs = services_qs.select_related("organization").prefetch_related(
        "capacities", "service_at_locations__location"
    )
    language = (filters.get("language") or "").strip().lower()
    results = []
    for service in services_qs.order_by("name", "pk")[:_SCAN]:
        if language and language not in [code.lower() for code in service.languages]:
            continue
        capacities = [
            {"obj": capacity, "is_stale": now - capacity.updated_at > stale_after}
            for capacity in service.capacities.all()
        ]
        if filters.get("with_capacity") and not any(c["obj"].available > 0 for c in capacities):
            continue
        distance = None
        if origin is not None:
            points = [
                sal.location
                for sal in service.service_at_locations.all()
                if sal.location.latitude is not None and not sal.location.is_confidential
            ]
            if points:
                distance = min(_km(origin[0], origin[1], float(loc.latitude), float(loc.longitude)) for loc in points)
        if filters.get("within_km") and (distance is None or distance > filters["within_km"]):
            continue
        results.append({"service": service, "capacities": capacities, "distance": distance})
    results.sort(key=lambda row: (row["distance"] is None, row["distance"] or 0, row["service"].name))
    return results[:MAX_SERVICES]
